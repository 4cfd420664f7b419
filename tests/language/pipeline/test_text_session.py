"""The text session on a generating model, and a deployment that returns less than the policy declares."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pipeline_ngram import NgramLM, passages, write_text_case

from compliance_mia.errors import PolicyError, TargetError
from compliance_mia.language.session import TextSession
from compliance_mia.language.texts import load_texts
from compliance_mia.metrics import StatisticsSettings
from compliance_mia.policy.loader import load_policy


def _policy(tmp_path: Path, old: str, new: str, n: int = 40):
    path = write_text_case(tmp_path, n=n)
    path.write_text(path.read_text().replace(old, new), encoding="utf-8")
    return path


def test_generated_text_only_runs_what_works_from_text_and_never_scores(tmp_path: Path) -> None:
    path = _policy(tmp_path, "  outputs: top_k_logprobs\n  top_k: 5\n", "  outputs: generated_text\n")
    path.write_text(
        path.read_text().replace(
            "  format: logprobs\n  logprobs:\n    file: token_logprobs.jsonl\n",
            "  format: huggingface\n  artifact: lm/\n",
        ),
        encoding="utf-8",
    )
    policy = load_policy(path, check_files=False)
    data = load_texts(policy.data)
    lm = NgramLM(data.members.texts)
    calls = []
    lm.score = lambda *a, **k: calls.append(a) or []  # type: ignore[method-assign]  # must never be asked
    session = TextSession(policy, lm, data, settings=StatisticsSettings.from_policy(policy))
    names, skipped = session.runnable("generated_text")
    assert names and all(session.available()[n].spec.needs == "generated_text" for n in names)
    assert skipped and not calls and session.raw is None
    outcomes = session.run(names, "generated_text", None)
    assert session.queries == len(data.texts) * len(names)  # one generation per text and attack
    assert all(np.isfinite(o.metrics.auc.estimate) for o in outcomes)


def test_a_file_without_top_logprobs_under_a_top_k_exposure_is_refused(tmp_path: Path) -> None:
    path = write_text_case(tmp_path, n=20)
    members = [(i, t) for i, t in zip([f"m-{k:04d}" for k in range(20)], passages(20, seed=2), strict=True)]
    non = [(f"n-{k:04d}", t) for k, t in enumerate(passages(20, seed=3))]
    NgramLM([t for _, t in members]).write_logprobs(tmp_path / "token_logprobs.jsonl", members + non, top_k=0)
    policy = load_policy(path)
    data = load_texts(policy.data)
    from compliance_mia.language.factory import open_text_target

    with pytest.raises(TargetError, match="id 'm-0000' has no top_logprobs, but the exposure shows the top 5"):
        TextSession(
            policy, open_text_target(policy, ids=data.ids), data, settings=StatisticsSettings.from_policy(policy)
        )


def test_generated_text_from_a_logprob_file_is_refused_at_the_exposure(tmp_path: Path) -> None:
    path = _policy(tmp_path, "  outputs: top_k_logprobs\n  top_k: 5\n", "  outputs: generated_text\n", n=5)
    with pytest.raises(PolicyError, match="exposure.outputs: a log-probability file cannot generate text"):
        load_policy(path)


def test_a_reference_model_from_a_file_calibrates_without_top_k(tmp_path: Path) -> None:
    path = write_text_case(tmp_path, n=60)
    policy_text = path.read_text().replace(
        "    file: token_logprobs.jsonl\n",
        "    file: token_logprobs.jsonl\n  reference:\n    format: logprobs\n    logprobs:\n      file: ref.jsonl\n",
    )
    path.write_text(policy_text, encoding="utf-8")
    policy = load_policy(path, check_files=False)
    data = load_texts(policy.data)
    # the reference never saw the audited texts: trained on other passages of the same kind; no top-k in its file
    NgramLM(passages(60, seed=99)).write_logprobs(
        tmp_path / "ref.jsonl", list(zip(data.ids, data.texts, strict=True)), top_k=0
    )
    from compliance_mia.language.factory import open_reference, open_text_target

    session = TextSession(
        policy,
        open_text_target(policy, ids=data.ids),
        data,
        settings=StatisticsSettings.from_policy(policy),
        reference=open_reference(policy, ids=data.ids),
    )
    names, _ = session.runnable("top_k_logprobs")
    calibrated = [n for n in names if session.available()[n].spec.needs_reference]
    assert calibrated
    outcomes = session.run(calibrated, "top_k_logprobs", 5)
    assert all(o.metrics.auc.lower > 0.6 and o.reference_mode == "offline" for o in outcomes)
