"""The factory opens what the policy names, and says which field is wrong when it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline_ngram import write_text_case

from compliance_mia.errors import TargetError
from compliance_mia.language.factory import open_reference, open_text_target
from compliance_mia.policy.loader import load_policy


def test_a_logprob_file_target_scores_by_id(tmp_path: Path) -> None:
    policy = load_policy(write_text_case(tmp_path, n=5))
    target = open_text_target(policy, ids=["m-0000", "n-0004"])
    scores = target.score_ids(["m-0000", "n-0004"], top_k=3)  # type: ignore[attr-defined]
    assert len(scores) == 2 and scores[0].top_logprobs is not None and scores[0].top_logprobs.shape[1] == 3
    assert open_reference(policy) is None


def test_a_huggingface_artifact_that_is_a_file_is_refused_by_field(tmp_path: Path) -> None:
    path = write_text_case(tmp_path, n=5)
    (tmp_path / "model.bin").write_bytes(b"not a model")
    text = path.read_text().replace(
        "  format: logprobs\n  logprobs:\n    file: token_logprobs.jsonl\n",
        "  format: huggingface\n  artifact: model.bin\n",
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TargetError, match=r"model\.artifact: 'model\.bin' is not a directory"):
        open_text_target(load_policy(path))
