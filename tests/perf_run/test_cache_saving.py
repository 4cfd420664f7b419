"""A re-run with unchanged inputs trains nothing and states the training time it saved, as recorded."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cases import write_small_case
from sklearn.ensemble import RandomForestClassifier

from compliance_mia.data import RecordSet
from compliance_mia.reference import build_reference_set
from compliance_mia.runner import load_policy, run_assessment


def _records(n: int, start: int, role: str) -> RecordSet:
    gen = np.random.default_rng(start)
    X = pd.DataFrame({"age": gen.integers(18, 90, n), "income": gen.normal(40, 12, n).round(2)})
    y = np.where((X["age"] - 50) / 20 + (X["income"] - 40) / 12 + gen.normal(0, 1, n) > 0, "yes", "no")
    ids = np.array([f"{role}-{i}" for i in range(n)], dtype=object)
    return RecordSet(role=role, ids=ids, X=X, y=y.astype(object), slices=pd.DataFrame(index=range(n)))


def _build(cache: Path, **kw):
    return build_reference_set(
        estimator=RandomForestClassifier(n_estimators=15),
        surrogate=False,
        mode="offline",
        count=kw.pop("count", 3),
        audit=_records(80, 1, "audit"),
        population=_records(200, 2, "population"),
        classes=np.array(["no", "yes"], dtype=object),
        seed=5,
        backend=kw.pop("backend", "sequential"),
        n_jobs=1,
        cache_dir=cache,
        **kw,
    )


def _recorded(cache: Path) -> list[float]:
    return [json.loads(p.read_text())["training_seconds"] for p in sorted(cache.rglob("*.json"))]


@pytest.mark.parametrize("backend", ["sequential", "loky"])
def test_the_saving_is_the_training_time_recorded_in_the_manifests(tmp_path: Path, backend: str) -> None:
    first = _build(tmp_path, backend=backend)
    assert (first.trained, first.cache_hits, first.seconds_saved) == (3, 0, None)
    recorded = _recorded(tmp_path)
    assert len(recorded) == 3 and all(s > 0 for s in recorded)
    again = _build(tmp_path, backend=backend)
    assert (again.trained, again.cache_hits) == (0, 3)
    assert again.seconds_saved == pytest.approx(sum(recorded), abs=1e-6)
    np.testing.assert_array_equal(again.audit_raw, first.audit_raw)


def test_no_saving_is_claimed_for_a_model_whose_time_was_not_recorded(tmp_path: Path) -> None:
    _build(tmp_path)
    oldest = sorted(tmp_path.rglob("*.json"))[0]
    manifest = json.loads(oldest.read_text())
    del manifest["training_seconds"]  # as written before training times were recorded
    oldest.write_text(json.dumps(manifest))
    again = _build(tmp_path)
    assert again.cache_hits == 3 and again.seconds_saved is None


class _Stages:
    def __init__(self) -> None:
        self.stages: list[str] = []

    def stage(self, description: str, total: int | None = None) -> None:
        self.stages.append(description)

    def advance(self, amount: int = 1) -> None:
        pass


def test_a_rerun_says_how_much_training_the_cache_saved(tmp_path: Path) -> None:
    policy_path = write_small_case(
        tmp_path,
        policy_overrides={
            "attacks": {
                "select": ["loss", "lira-offline"],
                "reference_models": {"count": 2, "backend": "sequential", "cache_dir": str(tmp_path / "cache")},
            },
            "controls": {"what_if": False},
        },
    )
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    first = run_assessment(load_policy(policy_path), policy_path=policy_path, now=now)
    assert first.plan.reference_models is not None
    assert first.plan.reference_models.trained == 2 and first.plan.reference_models.training_seconds_saved is None
    progress = _Stages()
    again = run_assessment(load_policy(policy_path), policy_path=policy_path, now=now, progress=progress)
    info = again.plan.reference_models
    assert info is not None and (info.trained, info.cache_hits) == (0, 2)
    recorded = sum(_recorded(tmp_path / "cache"))
    assert info.training_seconds_saved == pytest.approx(recorded, abs=2e-3)
    note = [s for s in progress.stages if "from the cache" in s]
    saved = info.training_seconds_saved
    assert note == [f"2 offline reference models from the cache, about {saved:.1f} s of training saved"]
    assert json.loads(again.to_json())["plan"]["reference_models"]["training_seconds_saved"] == saved
