"""Leakage and configuration findings from measured outcomes and the exposure."""

from __future__ import annotations

from compliance_mia import findings as _findings
from compliance_mia.risk import load_matrix
from compliance_mia.risk.facts import demonstrated, is_label_only, leakage_profile

MATRIX = load_matrix()


def _label_only(outcomes):
    return {o.name for o in outcomes if o.family == "label-only"}


def leakage_findings(outcomes, head, label_head, exposure):
    """The module's function with the shipped matrix and the fixtures' label-only attacks."""
    profile = leakage_profile(outcomes, headline=head, label_only_headline=label_head, label_only=_label_only(outcomes))
    return _findings.leakage_findings(outcomes, head, label_head, exposure, profile=profile, matrix=MATRIX)


def _ids(findings):
    return [f.id for f in findings]


def test_label_only_attacks_are_those_reading_only_labels():
    from compliance_mia.attacks import registry

    label_only = {n for n, cls in registry().items() if is_label_only({s.value for s in cls.spec.requires})}
    assert {"gap", "label-robustness", "label-robustness-calibrated"} <= label_only
    assert not {"loss", "rmia-offline", "lira-online"} & label_only


def test_demonstrated_needs_a_lower_bound_above_guessing(make_outcome):
    assert demonstrated(make_outcome("loss", (0.56, 0.51, 0.61)).metrics.auc, [])
    assert not demonstrated(make_outcome("loss", (0.56, 0.49, 0.61)).metrics.auc, [])


def test_strong_leakage_through_scores(make_outcome, make_headline, make_exposure):
    loss = make_outcome("loss", (0.72, 0.68, 0.76))
    gap = make_outcome("gap", (0.51, 0.48, 0.54), family="label-only")
    findings = leakage_findings([loss, gap], make_headline(loss), make_headline(gap), make_exposure())
    assert _ids(findings) == [
        "LEAK-MEMBERSHIP",
        "LEAK-SCORES-ONLY",
        "CONF-FINE-SCORES",
        "CONF-NO-RATE-LIMIT",
        "CONF-NOT-MONITORED",
    ]
    head = findings[0]
    assert head.severity == "high" and head.kind == "leakage"
    assert "AUC = 0.72 (95% CI 0.68–0.76)" in head.detail
    assert head.figures["auc_lower"] == 0.68 and head.figures["strongest_attack"] == "loss"
    assert findings[2].severity == "high"  # public scores with demonstrated leakage
    profile = leakage_profile(
        [loss, gap], headline=make_headline(loss), label_only_headline=make_headline(gap), label_only={"gap"}
    )
    assert profile.confidence and not profile.label_only and profile.score_attacks == ("loss",)


def test_label_only_leakage_quotes_the_corrected_label_only_headline(make_outcome, make_headline, make_exposure):
    loss = make_outcome("loss", (0.72, 0.68, 0.76))
    weak = make_outcome("label-robustness", (0.52, 0.48, 0.56), family="label-only")
    gap = make_outcome("gap", (0.57, 0.555, 0.585), family="label-only")
    findings = leakage_findings([loss, weak, gap], make_headline(loss), make_headline(gap), make_exposure())
    label = next(f for f in findings if f.id == "LEAK-LABEL-ONLY")
    assert "gap does better than guessing: AUC = 0.57" in label.detail
    assert "cannot stop it" in label.detail and label.severity == "medium"


def test_findings_rest_on_the_corrected_intervals_only(make_outcome, make_headline, make_exposure):
    """An attack whose own interval beats guessing cannot outvote a corrected headline that does not."""
    loss = make_outcome("loss", (0.53, 0.505, 0.555))  # per-attack interval above 0.5
    gap = make_outcome("gap", (0.51, 0.48, 0.54), family="label-only")
    corrected = make_headline(make_outcome("loss", (0.53, 0.49, 0.57)))  # simultaneous: includes 0.5
    findings = leakage_findings([loss, gap], corrected, make_headline(gap), make_exposure())
    ids = _ids(findings)
    assert ids[0] == "LEAK-NONE-SHOWN"
    assert "LEAK-SCORES-ONLY" not in ids and "LEAK-LABEL-ONLY" not in ids


def test_no_leakage_is_stated_with_its_limits(make_outcome, make_headline, make_exposure):
    loss = make_outcome("loss", (0.50, 0.47, 0.53))
    exposure = make_exposure(outputs="label", access="internal", description="labels")
    findings = leakage_findings([loss], make_headline(loss), None, exposure)
    assert _ids(findings) == ["LEAK-NONE-SHOWN"]
    assert findings[0].severity == "info" and "not proof that the model is anonymous" in findings[0].detail


def test_nothing_measured(make_exposure):
    findings = leakage_findings([], None, None, make_exposure(outputs="loss", access="authenticated", monitored=True))
    assert _ids(findings) == ["LEAK-NOT-MEASURED", "CONF-LOSS-EXPOSED"]


def test_editing_a_threshold_in_the_risk_matrix_moves_the_findings(
    tmp_path, make_outcome, make_headline, make_exposure
):
    """Finding grades read risk_matrix.yaml: raising its AUC threshold regrades the same figures."""
    from compliance_mia.resources import policies_dir

    loss = make_outcome("loss", (0.72, 0.68, 0.76))
    profile = leakage_profile([loss], headline=make_headline(loss), label_only_headline=None, label_only=set())
    before = _findings.leakage_findings(
        [loss], make_headline(loss), None, make_exposure(), profile=profile, matrix=MATRIX
    )
    text = (policies_dir() / "risk_matrix.yaml").read_text(encoding="utf-8")
    edited = text.replace(
        "{fact: auc_lower, op: ge, value: 0.65}\n        - {fact: low_fpr_lift_lower, op: ge, value: 3}",
        "{fact: auc_lower, op: ge, value: 0.75}\n        - {fact: low_fpr_lift_lower, op: ge, value: 3}",
    )
    assert edited != text
    path = tmp_path / "risk_matrix.yaml"
    path.write_text(edited, encoding="utf-8")
    after = _findings.leakage_findings(
        [loss], make_headline(loss), None, make_exposure(), profile=profile, matrix=load_matrix(path)
    )
    assert before[0].id == after[0].id == "LEAK-MEMBERSHIP"
    assert (before[0].severity, after[0].severity) == ("high", "medium")


def test_configuration_findings_are_data_in_the_matrix(tmp_path, make_outcome, make_headline, make_exposure):
    """Their conditions, grades and wording come from risk_matrix.yaml, not from Python."""
    from compliance_mia.resources import policies_dir

    loss = make_outcome("loss", (0.50, 0.47, 0.53))
    profile = leakage_profile([loss], headline=make_headline(loss), label_only_headline=None, label_only=set())
    text = (policies_dir() / "risk_matrix.yaml").read_text(encoding="utf-8")
    edited = text.replace(
        "    grade:\n      - {grade: low}\n    detail: >-\n      The policy does not declare that queries are logged",
        "    grade:\n      - {grade: high}\n    detail: >-\n      Nobody reads the query logs",
    )
    assert edited != text
    path = tmp_path / "risk_matrix.yaml"
    path.write_text(edited, encoding="utf-8")
    found = _findings.leakage_findings(
        [loss], make_headline(loss), None, make_exposure(), profile=profile, matrix=load_matrix(path)
    )
    monitored = next(f for f in found if f.id == "CONF-NOT-MONITORED")
    assert monitored.severity == "high" and monitored.detail.startswith("Nobody reads the query logs")
