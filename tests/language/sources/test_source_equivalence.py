"""One tiny model served three ways gives the same TokenScores: in process, over HTTP, and from a file.

This is what lets an auditor trust a figure whichever way the owner makes
the model reachable: the targets differ only in how the numbers arrive.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from compliance_mia.language.hf import HuggingFaceLM
from compliance_mia.language.logprob_file import LogprobFileLM, write_logprob_file
from compliance_mia.language.openai import OpenAICompletionsLM


def test_three_targets_one_model_same_scores(tiny_lm_dir: Path, completions_api, texts, tmp_path: Path) -> None:
    ids = [f"text-{i:02d}" for i in range(len(texts))]
    direct = HuggingFaceLM(tiny_lm_dir, batch_size=3)
    # the owner's side: run the model over the audited texts and hand over a file
    owner = HuggingFaceLM(tiny_lm_dir, batch_size=8).score(texts, top_k=5)
    from_file = LogprobFileLM(write_logprob_file(tmp_path / "owner.jsonl", ids, owner), ids=ids)
    remote = OpenAICompletionsLM(completions_api.url, model="tiny-docs-lm", batch_size=4)
    # the pipeline asks a target by id exactly when it has score_ids: only the file may have it
    assert hasattr(from_file, "score_ids")
    assert not hasattr(direct, "score_ids") and not hasattr(remote, "score_ids")
    try:
        for k in (0, 5):
            a = direct.score(texts, top_k=k)
            b = remote.score(texts, top_k=k)
            c = from_file.score_ids(ids, top_k=k)
            for x, y, z in zip(a, b, c, strict=True):
                assert x.logprobs.shape == y.logprobs.shape == z.logprobs.shape
                np.testing.assert_allclose(y.logprobs, x.logprobs, atol=1e-5, rtol=0)
                np.testing.assert_allclose(z.logprobs, x.logprobs, atol=1e-5, rtol=0)
                if k:
                    np.testing.assert_allclose(y.top_logprobs, x.top_logprobs, atol=1e-5, rtol=0)
                    np.testing.assert_allclose(z.top_logprobs, x.top_logprobs, atol=1e-5, rtol=0)
                else:
                    assert x.top_logprobs is y.top_logprobs is z.top_logprobs is None
        # and the one attack-level figure everything starts from, the mean log-likelihood, agrees too
        means = [np.array([s.logprobs.mean() for s in t.score(texts)]) for t in (direct, remote)]
        means.append(np.array([s.logprobs.mean() for s in from_file.score_ids(ids)]))
        np.testing.assert_allclose(means[1], means[0], atol=1e-6)
        np.testing.assert_allclose(means[2], means[0], atol=1e-6)
    finally:
        remote.close()
