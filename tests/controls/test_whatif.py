"""What-if, measured: the same attacks on a real model under each control's restricted exposure.

Uses the shared small case (an overfitted random forest on jittered
breast-cancer records, probabilities exposed publicly) and only attacks that
need no reference models, so the whole module runs in seconds.
"""

from __future__ import annotations

import pytest
from profile_helpers import profile_of

from compliance_mia.controls import load_catalogue, recommend
from compliance_mia.data import load_audit_data
from compliance_mia.errors import ComplianceMiaError, PolicyError
from compliance_mia.exposure import Exposure
from compliance_mia.metrics import StatisticsSettings
from compliance_mia.policy.schema import AttacksSpec, ControlsSpec, EstimatorSpec, TrainingRecipe
from compliance_mia.risk import RiskInputs, load_matrix, rate
from compliance_mia.runner import AttackSession, load_policy
from compliance_mia.runner.whatif import (
    measure_output_controls,
    measure_training_recipes,
    output_control_scenarios,
    residual_rating,
    whatif_one,
)
from compliance_mia.targets import open_target

ATTACKS = ["confidence", "gap", "loss"]
REGULARISED = TrainingRecipe(
    name="shallow-forest",
    control="regularisation",
    estimator=EstimatorSpec.model_validate(
        {
            "class": "sklearn.ensemble.RandomForestClassifier",
            "params": {"n_estimators": 20, "max_depth": 2, "min_samples_leaf": 40, "n_jobs": 1},
        }
    ),
)



@pytest.fixture(scope="module")
def policy(small_case_session):
    loaded = load_policy(small_case_session)
    return loaded.model_copy(
        update={
            "attacks": AttacksSpec(select=ATTACKS),
            "controls": ControlsSpec(training_recipes=[REGULARISED]),
        }
    )


@pytest.fixture(scope="module")
def session(policy):
    target = open_target(policy)
    data = load_audit_data(policy.data, seed=policy.seed, need_population=False)
    s = AttackSession(policy, target, data, settings=StatisticsSettings.from_policy(policy))
    s.selected = list(ATTACKS)
    yield s
    target.close()


@pytest.fixture(scope="module")
def rate_fn(policy):
    matrix = load_matrix()

    def rate_under(head, exposure, label_head=None):
        inputs = RiskInputs.from_policy(policy, head, label_head, exposure=exposure)
        return rate(inputs, matrix=matrix, scale=policy.risk.scale, appetite="limited")

    return rate_under


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def baseline(session, rate_fn):
    current = Exposure("probabilities")
    outcomes = session.run(ATTACKS, current)
    head = session.headline(outcomes)
    label_head = session.headline([o for o in outcomes if o.name == "gap"])
    return outcomes, head, rate_fn(head, current, label_head)


def test_scenarios_are_only_stricter_exposures(catalogue):
    scenarios = output_control_scenarios(catalogue, Exposure("probabilities"), noise_scale=0.05, seed=3)
    assert [(c, e.outputs, e.top_k, e.rounding, e.noise_scale) for c, _, e in scenarios] == [
        ("output-label-only", "label", None, None, None),
        ("output-top-k", "top_k", 1, None, None),
        ("output-rounding", "probabilities", None, 2, None),
        ("output-rounding", "probabilities", None, 1, None),
        ("output-noise", "probabilities", None, None, 0.05),
    ]
    assert scenarios[0][1] == "the predicted label only"
    again = output_control_scenarios(catalogue, Exposure("probabilities"), noise_scale=0.05, seed=3)
    assert scenarios[-1][2].noise_seed == again[-1][2].noise_seed
    assert output_control_scenarios(catalogue, Exposure("label"), noise_scale=0.05, seed=3) == []
    rounded = output_control_scenarios(catalogue, Exposure("probabilities", rounding=1), noise_scale=0.05, seed=3)
    assert "output-rounding" not in {c for c, _, _ in rounded}


def test_label_only_what_if_lowers_likelihood_but_not_the_label_only_figure(session, baseline, rate_fn, catalogue):
    outcomes, head, before = baseline
    gap_before = next(o for o in outcomes if o.name == "gap").metrics.auc.estimate
    scenario = next(
        s
        for s in output_control_scenarios(catalogue, Exposure("probabilities"), noise_scale=0.05, seed=0)
        if s[0] == "output-label-only"
    )
    [result] = measure_output_controls(session, [scenario], rate_fn=rate_fn)

    assert result.kind == "output" and result.attacks_run == ["gap"]
    assert result.per_attack_auc["gap"] == pytest.approx(gap_before, abs=1e-12)
    assert result.note.startswith("could not run under this exposure: confidence, loss")
    assert result.auc is not None and head is not None
    assert result.auc.estimate < head.auc.estimate
    levels = before.levels
    assert result.residual is not None
    assert levels.index(result.residual.likelihood) < levels.index(before.likelihood)
    assert "LIK-PUBLIC-SCORES" in {r.rule_id for r in before.rules}
    assert "LIK-PUBLIC-SCORES" not in {r.rule_id for r in result.residual.rules}


def test_output_what_if_is_deterministic_and_leaves_session_scores_alone(session, baseline, rate_fn, catalogue):
    session.run(ATTACKS, Exposure("probabilities"))
    kept = {k: v.copy() for k, v in session.scores.items()}
    scenarios = [
        s
        for s in output_control_scenarios(catalogue, Exposure("probabilities"), noise_scale=0.05, seed=0)
        if s[0] in ("output-rounding", "output-noise")
    ]
    first = measure_output_controls(session, scenarios, rate_fn=rate_fn)
    second = measure_output_controls(session, scenarios, rate_fn=rate_fn)
    assert [r.model_dump() for r in first] == [r.model_dump() for r in second]
    assert set(session.scores) == set(kept)
    for name, scores in kept.items():
        assert (session.scores[name] == scores).all()
    by_label = {r.label: r for r in first}
    one = by_label["a probability for every class, rounded to 1 decimal place(s)"]
    assert one.attacks_run == ATTACKS and one.auc is not None


def test_training_recipe_reports_utility_beside_privacy(session, baseline, rate_fn, catalogue):
    _, head, before = baseline
    [result] = measure_training_recipes(session, [REGULARISED], rate_fn=rate_fn, catalogue=catalogue)
    assert result.kind == "training" and result.control_id == "regularisation"
    assert result.label.startswith("the model retrained as shallow-forest: RandomForestClassifier(max_depth=2")
    assert result.utility_before is not None and result.utility_after is not None
    assert 0.5 < result.utility_after <= 1.0 and result.utility_before == session.accuracy()[1]
    assert result.auc is not None and head is not None
    assert result.auc.estimate < head.auc.estimate
    assert result.residual is not None
    assert before.levels.index(result.residual.level) <= before.levels.index(before.level)


def test_recipe_for_a_non_training_control_is_a_policy_error(session, rate_fn, catalogue):
    wrong = REGULARISED.model_copy(update={"control": "output-rounding"})
    with pytest.raises(PolicyError, match=r"controls.training_recipes\[0\].*output control, not a training-time"):
        measure_training_recipes(session, [wrong], rate_fn=rate_fn, catalogue=catalogue)
    broken = REGULARISED.model_copy(
        update={"estimator": EstimatorSpec.model_validate({"class": "sklearn.svm.SVC", "params": {"C": -1.0}})}
    )
    with pytest.raises(PolicyError, match="could not be trained on the members"):
        measure_training_recipes(session, [broken], rate_fn=rate_fn, catalogue=catalogue)


def test_whatif_one_returns_the_most_protective_variant(session, rate_fn, catalogue):
    result = whatif_one(session, "output-rounding", catalogue=catalogue, rate_fn=rate_fn)
    assert result.label.endswith("rounded to 1 decimal place(s)")
    assert "other variants measured: a probability for every class, rounded to 2 decimal place(s): AUC" in result.note
    trained = whatif_one(session, "regularisation", catalogue=catalogue, rate_fn=rate_fn)
    assert trained.kind == "training"


@pytest.mark.parametrize(
    ("control", "message"),
    [
        ("rate-limiting", "is an access control: it changes who can query"),
        (
            "no-such-control",
            "unknown control 'no-such-control'; controls that can be measured: dp-training",
        ),
        ("dp-training", "name a candidate estimator for it under controls.training_recipes"),
    ],
)
def test_whatif_one_explains_what_it_cannot_measure(session, rate_fn, catalogue, control, message):
    with pytest.raises(ComplianceMiaError, match=message):
        whatif_one(session, control, catalogue=catalogue, rate_fn=rate_fn)


def test_whatif_one_refuses_a_control_already_in_place(session, rate_fn, catalogue):
    with pytest.raises(ComplianceMiaError, match="would not restrict the current exposure"):
        whatif_one(
            session,
            "output-label-only",
            catalogue=catalogue,
            rate_fn=rate_fn,
            current=Exposure("label"),
        )


def test_residual_rating_is_the_best_measured_recommended_control(session, baseline, rate_fn, catalogue, policy):
    outcomes, head, before = baseline
    scenarios = output_control_scenarios(catalogue, Exposure("probabilities"), noise_scale=0.05, seed=0)
    what_if = measure_output_controls(session, scenarios, rate_fn=rate_fn)
    from compliance_mia.assessment import ExposureSummary

    recs = recommend(
        catalogue=catalogue,
        rating=before,
        profile=profile_of(outcomes),
        headline=head,
        exposure=ExposureSummary(outputs="probabilities", access="public", description="probabilities"),
        regulations=list(policy.regulations),
        what_if=what_if,
    )
    residual = residual_rating(recs, before)
    assert residual is not None
    best_level = min(before.levels.index(w.residual.level) for w in what_if if w.residual is not None)
    assert before.levels.index(residual.level) == best_level
    note = residual.rules[-1]
    assert note.rule_id == "RESIDUAL" and note.inputs["before"] == before.level
    assert residual_rating([r for r in recs if r.what_if is None], before) is None


def test_recipe_by_params_changes_a_copy_of_the_assessed_model(session, baseline, rate_fn, catalogue):
    """'params' regularises the model as deployed (here its forest), not some other estimator."""
    _, head, _ = baseline
    recipe = TrainingRecipe(name="leafier", control="regularisation", params={"min_samples_leaf": 40, "max_depth": 2})
    [result] = measure_training_recipes(session, [recipe], rate_fn=rate_fn, catalogue=catalogue)
    assert "the same model with max_depth=2, min_samples_leaf=40" in result.label
    assert result.auc.estimate < head.auc.estimate
    # the deployed model itself is untouched
    assert session.target.estimator.get_params()["max_depth"] is None
    bad = TrainingRecipe(name="typo", control="regularisation", params={"min_samples_lef": 3})
    with pytest.raises(PolicyError, match="cannot set min_samples_lef on the model"):
        measure_training_recipes(session, [bad], rate_fn=rate_fn, catalogue=catalogue)


def test_recipe_needs_exactly_one_way_of_saying_what_changes() -> None:
    with pytest.raises(ValueError, match="either 'params'"):
        TrainingRecipe(name="x", control="regularisation")
