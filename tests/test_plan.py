"""The planner: what runs under each exposure, why the rest does not, and the time budget."""

from __future__ import annotations

import pytest

from compliance_mia.attacks import registry
from compliance_mia.errors import PolicyError
from compliance_mia.exposure import Exposure
from compliance_mia.plan import describe_registry, estimate_fit_seconds, make_plan
from compliance_mia.policy.schema import Policy

LABEL_ONLY = {"gap", "label-robustness", "label-robustness-calibrated", "boundary-distance"}


def _policy(exposure: dict | None = None, attacks: dict | None = None) -> Policy:
    return Policy.model_validate(
        {
            "system": {"name": "s", "owner": "o", "assessment_type": "ad-hoc"},
            "model": {"format": "skops", "artifact": "model.skops"},
            "data": {
                "members": "m.csv",
                "non_members": "n.csv",
                "id_column": "id",
                "label_column": "y",
                "categories": ["health"],
                "data_subjects": 1000,
            },
            "exposure": exposure or {"outputs": "probabilities", "access": "public"},
            "attacks": attacks or {},
        }
    )


def _plan(policy: Policy, *, n_classes: int = 2, queries: bool = True, refs: bool = True, **kw):
    signals = Exposure.from_spec(policy.exposure).signals(n_classes, arbitrary_queries=queries)
    return make_plan(
        policy,
        signals,
        n_audit=kw.pop("n_audit", 2000),
        n_population=kw.pop("n_population", 4000),
        can_train_references=refs,
        **kw,
    )


def _reasons(result) -> dict[str, tuple[bool, str]]:
    return {a.name: (a.selected, a.reason) for a in result.plan.attacks}


def test_label_only_exposure_selects_only_label_only_attacks():
    result = _plan(_policy({"outputs": "label", "access": "public"}))
    assert set(result.selected) == LABEL_ONLY
    reasons = _reasons(result)
    for name in set(registry()) - LABEL_ONLY:
        selected, why = reasons[name]
        assert not selected and "does not expose" in why, (name, why)
    assert result.reference_modes == {"offline"}


def test_label_only_without_arbitrary_queries_leaves_only_the_gap_attack():
    result = _plan(_policy({"outputs": "label", "access": "public"}), queries=False)
    assert result.selected == ["gap"]
    assert "queries on new (perturbed) inputs" in _reasons(result)["label-robustness"][1]


def test_full_probabilities_offline_runs_the_strong_attacks_and_explains_online():
    result = _plan(_policy())
    selected = set(result.selected)
    assert {
        "lira-offline",
        "rmia-offline",
        "shadow",
        "loss",
        "calibrated-loss",
        "label-robustness",
    } <= selected
    for name in ("lira-online", "rmia-online"):
        selected_flag, why = _reasons(result)[name]
        assert not selected_flag and "online reference models" in why and "offline" in why
    assert result.reference_modes == {"offline"}
    assert all(a.estimated_seconds is not None for a in result.plan.attacks if a.selected)


def test_both_modes_select_online_attacks():
    result = _plan(_policy(attacks={"reference_models": {"mode": "both"}}))
    assert {"lira-online", "rmia-online", "lira-offline"} <= set(result.selected)
    assert result.reference_modes == {"offline", "online"}


def test_rounded_top_k_keeps_score_attacks_loss_exposure_multiclass_drops_vector_attacks():
    top1 = _plan(
        _policy({"outputs": "top_k", "top_k": 1, "rounding": 2, "access": "public"}), n_classes=5
    )
    assert {"entropy", "rmia-offline", "loss"} <= set(top1.selected)
    loss = _plan(_policy({"outputs": "loss", "access": "internal"}), n_classes=5)
    assert "entropy" not in loss.selected and "modified-entropy" not in loss.selected
    assert "gap" not in loss.selected  # a multi-class loss does not reveal the predicted label
    assert {"loss", "lira-offline", "shadow"} <= set(loss.selected)


def test_black_box_without_surrogate_skips_reference_attacks_with_reason():
    result = _plan(_policy(), refs=False)
    assert {"loss", "confidence", "gap"} <= set(result.selected)
    selected, why = _reasons(result)["rmia-offline"]
    assert not selected and "surrogate" in why
    assert any("strongest attacks are missing" in note for note in result.plan.notes)


def test_reference_count_zero_and_explicit_lists():
    zero = _plan(_policy(attacks={"reference_models": {"count": 0}}))
    assert not any(registry()[n].spec.needs_reference_models for n in zero.selected)
    chosen = _plan(_policy(attacks={"select": ["loss", "rmia-offline"], "exclude": ["loss"]}))
    assert chosen.selected == ["rmia-offline"]
    reasons = _reasons(chosen)
    assert reasons["loss"] == (False, "excluded by the policy")
    assert reasons["gap"] == (False, "not in the policy's attack list")


def test_unknown_attack_names_are_policy_errors():
    with pytest.raises(PolicyError, match="unknown attack"):
        _plan(_policy(attacks={"select": ["loss", "magic"]}))


def test_missing_population_skips_attacks_that_need_it():
    result = _plan(_policy(), n_population=0, n_audit=500)
    assert "rmia-offline" not in result.selected and "loss" in result.selected
    assert "population" in _reasons(result)["rmia-offline"][1]


def test_budget_skips_costly_attacks_with_reason_and_keeps_cheap_ones():
    unlimited = _plan(_policy(), fit_seconds=30.0)
    assert "rmia-offline" in unlimited.selected
    tight = _plan(_policy(attacks={"budget_seconds": 5}), fit_seconds=30.0)
    assert {"loss", "confidence", "gap"} <= set(tight.selected)
    selected, why = _reasons(tight)["rmia-offline"]
    assert not selected and "time budget" in why and "reference-model training" in why
    estimates = {a.name: a.estimated_seconds for a in tight.plan.attacks}
    assert estimates["rmia-offline"] > 5 > estimates["loss"]


def test_budget_can_reduce_the_reference_count_and_says_so():
    policy = _policy(attacks={"budget_seconds": 60, "reference_models": {"count": 16, "n_jobs": 1}})
    result = _plan(policy, fit_seconds=10.0)
    assert 2 <= result.reference_count < 16
    assert any("cannot fit 16 reference models" in note for note in result.plan.notes)
    assert any(registry()[n].spec.needs_reference_models for n in result.selected)


def test_reference_training_is_charged_once_per_mode():
    result = _plan(_policy(), fit_seconds=20.0)
    estimates = result.estimated_seconds
    charged = [
        n
        for n in result.selected
        if registry()[n].spec.reference_mode == "offline" and estimates[n] >= 20
    ]
    assert len(charged) == 1


def test_fit_time_estimate_grows_with_data():
    assert 0 < estimate_fit_seconds(100) < estimate_fit_seconds(10_000)


def test_describe_registry_lists_every_attack_with_needs():
    rows = describe_registry()
    assert [r["name"] for r in rows] == sorted(registry())
    by_name = {r["name"]: r for r in rows}
    assert by_name["gap"]["needs"] == "the predicted label"
    assert by_name["rmia-online"]["reference_models"] == "online"
    assert by_name["loss"]["reference_models"] == "none"
    for row in rows:
        assert set(row) >= {"name", "title", "family", "needs", "reference_models", "cost"}
        assert all(isinstance(v, str) for v in row.values())


def test_every_selected_attack_has_its_threat_model_stated():
    result = _plan(_policy(attacks={"reference_models": {"mode": "both"}}))
    assert result.threat_models["rmia-online"] == "online"
    assert result.threat_models["rmia-offline"] == "offline"
    assert result.threat_models["loss"] == "offline"  # reference-free: an outside attacker
    assert set(result.threat_models) == set(result.selected)
    online = next(n for n in result.plan.notes if n.startswith("online threat model"))
    offline = next(n for n in result.plan.notes if n.startswith("offline threat model"))
    assert "train models with the target record" in online and "rmia-online" in online
    assert "population data only" in offline and "rmia-offline" in offline
    assert "rmia-online" not in offline


def test_tight_budget_with_both_modes_plans_online_first():
    policy = _policy(
        attacks={"budget_seconds": 70, "reference_models": {"mode": "both", "count": 8, "n_jobs": 1}}
    )
    # 8 models × 8 s = 64 s per mode: one mode fits, both do not
    result = _plan(policy, fit_seconds=8.0, n_audit=200, n_population=400)
    assert result.reference_count == 8
    assert "rmia-online" in result.selected and "lira-online" in result.selected
    assert "rmia-offline" not in result.selected
    selected, why = _reasons(result)["rmia-offline"]
    assert "time budget" in why
    assert any("online attacks (the auditor's threat model" in n for n in result.plan.notes)
    # a budget that fits both keeps both
    roomy = _plan(policy.model_copy(update={"attacks": policy.attacks.model_copy(update={"budget_seconds": 300})}),
                  fit_seconds=8.0, n_audit=200, n_population=400)
    assert {"rmia-online", "rmia-offline"} <= set(roomy.selected)
    assert not any("cannot train both" in n for n in roomy.plan.notes)


def test_online_pool_of_audit_records_is_costed_on_the_smaller_pool():
    base = {"mode": "online", "count": 8, "n_jobs": 1}
    wide = _plan(_policy(attacks={"reference_models": base}), n_audit=2000, n_population=20000)
    narrow = _plan(
        _policy(attacks={"reference_models": {**base, "online_pool": "audit"}}), n_audit=2000, n_population=20000
    )

    def online_total(result):  # the training is charged to whichever online attack comes first
        return sum(v for n, v in result.estimated_seconds.items() if registry()[n].spec.reference_mode == "online")

    assert online_total(narrow) < online_total(wide) - 10


def test_boundary_attack_is_costed_with_its_own_query_budget():
    small = _plan(_policy(attacks={"boundary_queries": 8}), fit_seconds=1.0)
    large = _plan(_policy(attacks={"boundary_queries": 512}), fit_seconds=1.0)
    assert "boundary-distance" in small.selected
    assert large.estimated_seconds["boundary-distance"] > small.estimated_seconds["boundary-distance"]
    assert large.estimated_seconds["label-robustness-calibrated"] == small.estimated_seconds[
        "label-robustness-calibrated"
    ]
