"""The whole flow on a small real case: policy in, Assessment out."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from cases import write_small_case

from compliance_mia.assessment import Assessment
from compliance_mia.runner import load_policy, preview, run_assessment

FIXED = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def _numbers(a: Assessment) -> dict:
    """Everything in an assessment except wall-clock facts (timestamps, durations)."""
    data = json.loads(a.to_json())
    data.pop("evidence")
    for attack in data["attacks"]:
        attack.pop("duration_seconds")
    data["plan"].get("reference_models", {}) and data["plan"]["reference_models"].pop("seconds", None)
    data["plan"].get("reference_models", {}) and data["plan"]["reference_models"].pop("cache_hits", None)
    data["plan"].get("reference_models", {}) and data["plan"]["reference_models"].pop("trained", None)
    data["plan"].get("reference_models", {}) and data["plan"]["reference_models"].pop("training_seconds_saved", None)
    for item in data["plan"]["attacks"]:
        item.pop("estimated_seconds", None)
    return data


@pytest.fixture(scope="module")
def assessed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Assessment]:
    policy_path = write_small_case(tmp_path_factory.mktemp("run"))
    return policy_path, run_assessment(load_policy(policy_path), policy_path=policy_path, now=FIXED)


def test_assessment_is_complete_and_round_trips_through_json(assessed: tuple[Path, Assessment]) -> None:
    _, a = assessed
    assert a.data.n_members == 300 and a.data.n_non_members == 300 and a.data.n_population == 400
    assert a.headline is not None and a.headline.strongest_attack in {o.name for o in a.attacks}
    assert {o.name for o in a.attacks} >= {"loss", "confidence", "gap"}
    ran = {p.name for p in a.plan.attacks if p.selected}
    assert ran == {o.name for o in a.attacks}
    assert all(p.reason for p in a.plan.attacks)
    assert a.risk.level in a.risk.levels and a.risk.rules
    assert {f.role for f in a.evidence.files} == {"policy", "model", "members", "non-members", "population"}
    assert all(len(f.sha256) == 64 for f in a.evidence.files)
    assert a.evidence.versions["scikit-learn"]
    assert a.signoff.status == "draft"
    again = Assessment.from_json(a.to_json())
    assert again == a


def test_records_are_named_by_id_only(assessed: tuple[Path, Assessment]) -> None:
    policy_path, a = assessed
    members = __import__("pandas").read_csv(policy_path.parent / "members.csv")
    assert {r.record_id for r in a.records} <= set(members["record_id"])
    text = a.to_json()
    # no feature value of any member appears in the evidence (values have many digits, IDs do not)
    sample = members.drop(columns=["record_id", "diagnosis", "site"]).iloc[:20].to_numpy().ravel()
    assert not any(repr(float(v)) in text for v in sample)


def test_same_inputs_and_seed_give_the_same_numbers(assessed: tuple[Path, Assessment]) -> None:
    policy_path, first = assessed
    second = run_assessment(load_policy(policy_path), policy_path=policy_path, now=FIXED)
    assert _numbers(first) == _numbers(second)
    assert first.assessment_id == second.assessment_id


def test_label_only_exposure_runs_only_label_only_attacks(tmp_path: Path) -> None:
    policy_path = write_small_case(tmp_path, policy_overrides={"exposure": {"outputs": "label", "access": "public"}})
    a = run_assessment(load_policy(policy_path), policy_path=policy_path, now=FIXED)
    assert a.attacks, "label-only attacks should still run"
    assert all(o.family == "label-only" for o in a.attacks)
    skipped = [p for p in a.plan.attacks if not p.selected]
    assert skipped and all("does not expose" in p.reason for p in skipped if p.name in {"loss", "lira-offline"})


def test_preview_plans_without_querying(small_case: Path) -> None:
    view = preview(load_policy(small_case))
    assert view.n_members == 300 and view.n_non_members == 300
    assert any(p.selected for p in view.plan.attacks)


def test_no_population_file_sets_non_members_aside_and_says_so(tmp_path: Path) -> None:
    policy_path = write_small_case(tmp_path)
    raw = yaml.safe_load(policy_path.read_text())
    del raw["data"]["population"]
    policy_path.write_text(yaml.safe_dump(raw))
    a = run_assessment(load_policy(policy_path), policy_path=policy_path, now=FIXED)
    assert a.data.n_non_members == 150 and a.data.n_population == 150
    assert "set aside" in a.data.population_source


def test_a_time_budget_trains_fewer_reference_models_and_says_so(tmp_path: Path, monkeypatch) -> None:
    """The planner's reduced count is what the runner trains, measured on this machine."""
    import compliance_mia.runner.preparation as runner

    # make one reference fit "cost" 1 s so that 8 models cannot fit a 5 s budget on any machine
    monkeypatch.setattr(runner, "_measure_fit_seconds", lambda *a, **k: 1.0)
    policy_path = write_small_case(
        tmp_path,
        policy_overrides={
            "attacks": {
                "budget_seconds": 5,
                "select": ["loss", "rmia-offline"],
                "reference_models": {"count": 8, "backend": "sequential"},
            }
        },
    )
    a = run_assessment(load_policy(policy_path), policy_path=policy_path, now=FIXED)
    info = a.plan.reference_models
    assert info is not None and 2 <= info.count < 8
    assert any("cannot fit 8 reference models" in n for n in a.plan.notes)
    assert a.attack("rmia-offline").reference_models == info.count


def test_measured_fit_time_scales_to_half_the_pool(small_case: Path) -> None:
    from compliance_mia.runner.preparation import _measure_fit_seconds, prepare

    prepared = prepare(load_policy(small_case))
    prepared.target.close()
    seconds = _measure_fit_seconds(prepared.source.estimator, prepared.data, seed=1)
    assert seconds is not None and 0 < seconds < 30


def test_a_model_that_never_saw_its_members_carries_no_finding_that_attacks_succeed(tmp_path: Path) -> None:
    """Issue 11: findings rest on one statistical basis (the corrected intervals), end to end.

    The model is retrained on the population only, so the 'members' are no
    more its training records than the non-members: no finding, situation or
    decision may say that attacks succeed.
    """
    import pandas as pd
    import skops.io as sio
    from sklearn.ensemble import RandomForestClassifier

    policy_path = write_small_case(tmp_path, n_members=300, n_non_members=300, n_population=500)
    population = pd.read_csv(tmp_path / "population.csv")
    features = [c for c in population.columns if c not in ("record_id", "diagnosis", "site")]
    blind = RandomForestClassifier(n_estimators=30, random_state=0, n_jobs=1)
    sio.dump(blind.fit(population[features], population["diagnosis"]), tmp_path / "model.skops")

    a = run_assessment(load_policy(policy_path), policy_path=policy_path)
    ids = [f.id for f in a.findings]
    assert a.headline is not None and a.headline.auc.lower <= 0.5 <= a.headline.auc.upper
    assert "LEAK-NONE-SHOWN" in ids
    assert not {"LEAK-MEMBERSHIP", "LEAK-SCORES-ONLY", "LEAK-LABEL-ONLY"} & set(ids)
    assert not any("succeed" in c.why for c in a.controls)
