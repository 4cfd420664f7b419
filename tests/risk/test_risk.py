"""The risk matrix: shipped rules, the rule language, the trace, scales and appetite."""

from __future__ import annotations

from typing import get_args

import pytest

from compliance_mia.errors import CatalogueError, ComplianceMiaError, PolicyError
from compliance_mia.policy.schema import DataCategory
from compliance_mia.risk import FACTS, covered_categories, fact_values, load_matrix, rate

STRONG = dict(
    auc=(0.90, 0.88, 0.92), tpr_1pct=(0.30, 0.26, 0.34), tpr_0_1pct=(0.12, 0.08, 0.16), epsilon=4.5
)
NONE = dict(auc=(0.50, 0.47, 0.53), tpr_1pct=(0.010, 0.004, 0.020), tpr_0_1pct=None)


# ------------------------------------------------------------- shipped matrix
def test_shipped_matrix_loads_with_version_and_both_scales(matrix):
    assert matrix.version == "1.0.0"
    assert {"cnil-4", "nist-5"} <= set(matrix.scales)
    assert matrix.scale("cnil-4").levels == ["negligible", "limited", "significant", "maximum"]
    assert matrix.scale("nist-5").levels == ["very low", "low", "moderate", "high", "very high"]


def test_every_data_category_is_named_by_a_severity_rule(matrix):
    assert set(get_args(DataCategory)) <= covered_categories(matrix.spec)


@pytest.mark.parametrize("category", get_args(DataCategory))
def test_each_category_alone_gets_a_decided_severity_not_the_default(matrix, make_inputs, category):
    rating = rate(make_inputs(categories=(category,)), matrix=matrix)
    severity_rule = next(r for r in rating.rules if r.dimension == "severity")
    assert severity_rule.rule_id != "SEV-DEFAULT"
    assert severity_rule.inputs["categories"] == [category]


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        (("health", "special_category"), "maximum"),
        (("children",), "maximum"),
        (("genetic",), "maximum"),
        (("financial",), "significant"),
        (("location", "ordinary_personal"), "significant"),
        (("ordinary_personal",), "limited"),
        (("pseudonymous",), "negligible"),
    ],
)
def test_severity_follows_sensitivity(matrix, make_inputs, categories, expected):
    assert rate(make_inputs(categories=categories), matrix=matrix).severity == expected


def test_membership_revealing_a_condition_is_maximum_even_for_ordinary_data(matrix, make_inputs):
    rating = rate(
        make_inputs(categories=("ordinary_personal",), membership_reveals_condition=True),
        matrix=matrix,
    )
    assert rating.severity == "maximum"
    assert rating.rules[0].rule_id == "SEV-MEMBERSHIP-REVEALS"


def test_large_scale_raises_severity_one_level(matrix, make_inputs):
    small = rate(make_inputs(categories=("financial",), data_subjects=5_000), matrix=matrix)
    large = rate(make_inputs(categories=("financial",), data_subjects=250_000), matrix=matrix)
    assert (small.severity, large.severity) == ("significant", "maximum")
    adj = next(r for r in large.rules if r.rule_id == "SEV-LARGE-SCALE")
    assert adj.inputs["data_subjects"] == 250_000 and adj.inputs["before"] == "significant"
    assert "250,000" in adj.because


# ------------------------------------------------------------------- ratings
def test_health_data_with_strong_leakage_rates_maximum_on_both_scales(
    matrix, make_inputs, make_headline
):
    inputs = make_inputs(
        categories=("health", "special_category"), access="public", headline=make_headline(**STRONG)
    )
    cnil = rate(inputs, matrix=matrix, scale="cnil-4")
    nist = rate(inputs, matrix=matrix, scale="nist-5")
    assert (cnil.severity, cnil.likelihood, cnil.level) == ("maximum", "maximum", "maximum")
    assert (nist.severity, nist.likelihood, nist.level) == ("very high", "very high", "very high")


def test_pseudonymous_data_without_leakage_rates_low(matrix, make_inputs, make_headline):
    inputs = make_inputs(
        categories=("pseudonymous",), access="internal", headline=make_headline(**NONE)
    )
    cnil = rate(inputs, matrix=matrix)
    nist = rate(inputs, matrix=matrix, scale="nist-5")
    assert (cnil.likelihood, cnil.level) == ("negligible", "negligible")
    assert nist.level == "very low"
    lik = next(r for r in cnil.rules if r.dimension == "likelihood")
    assert lik.rule_id == "LIK-NONE-SHOWN"
    assert "bounds only the attacks that were run" in lik.because


def test_likelihood_reads_lower_bounds_and_quotes_the_figures(matrix, make_inputs, make_headline):
    """The brief's example: TPR@1% = 4.2% [3.1, 5.6] on a public score API → significant."""
    head = make_headline(auc=(0.58, 0.54, 0.62), tpr_1pct=(0.042, 0.031, 0.056))
    rating = rate(make_inputs(access="public", headline=head), matrix=matrix)
    base = next(r for r in rating.rules if r.dimension == "likelihood")
    assert base.rule_id == "LIK-CLEAR" and base.result == "significant"
    assert "TPR at 1% FPR: 4.2% (95% CI 3.1–5.6%)" in base.because
    assert "TPR at 1% FPR, lower bound 3.1% ≥ 3.0%" in base.because
    assert base.inputs["tpr_1pct_lower"] == pytest.approx(0.031)
    adj = next(r for r in rating.rules if r.rule_id == "LIK-PUBLIC-SCORES")
    assert adj.because.startswith(
        "likelihood raised from significant to maximum because anyone can query"
    )
    final = next(r for r in rating.rules if r.rule_id == "LIKELIHOOD-FINAL")
    assert final.result == rating.likelihood == "maximum"
    assert "4.2%" in final.because and "public access" in final.because


def test_point_estimate_alone_is_only_suggestive(matrix, make_inputs, make_headline):
    head = make_headline(auc=(0.56, 0.49, 0.63), tpr_1pct=(0.03, 0.005, 0.07))
    rating = rate(make_inputs(headline=head), matrix=matrix, scale="nist-5")
    lik = next(r for r in rating.rules if r.dimension == "likelihood")
    assert (lik.rule_id, lik.result) == ("LIK-SUGGESTED", "low")


def test_not_measurable_figures_never_count_as_evidence(matrix, make_inputs, make_headline):
    head = make_headline(auc=(0.52, 0.49, 0.55), tpr_1pct=None, tpr_0_1pct=None, tpr_10pct=None)
    inputs = make_inputs(headline=head)
    raw, shown = fact_values(inputs)
    assert raw["tpr_1pct"] is None and raw["tpr_1pct_measurable"] is False
    assert shown["tpr_1pct_ci"] == "too few non-members"  # the point's own reason, as every renderer prints it
    rating = rate(inputs, matrix=matrix)
    lik = next(r for r in rating.rules if r.dimension == "likelihood")
    assert lik.rule_id == "LIK-NONE-SHOWN"
    assert "TPR at 1% FPR: too few non-members" in lik.because  # the point's own reason


def test_no_measurement_is_not_rated_safe(matrix, make_inputs):
    rating = rate(make_inputs(headline=None), matrix=matrix)
    lik = next(r for r in rating.rules if r.dimension == "likelihood")
    assert (lik.rule_id, lik.result) == ("LIK-NOT-MEASURED", "limited")
    assert lik.inputs == {"measured": False}


def test_access_adjustments_move_likelihood_and_clamp(matrix, make_inputs, make_headline):
    head = make_headline(auc=(0.70, 0.66, 0.74))
    public = rate(make_inputs(access="public", headline=head), matrix=matrix)
    controlled = rate(
        make_inputs(access="authenticated", query_limited=True, monitored=True, headline=head),
        matrix=matrix,
    )
    internal_none = rate(
        make_inputs(access="internal", headline=make_headline(**NONE)), matrix=matrix
    )
    assert (public.likelihood, controlled.likelihood) == ("maximum", "limited")
    clamp = next(r for r in internal_none.rules if r.rule_id == "LIK-INTERNAL-ONLY")
    assert (
        clamp.result == "negligible"
        and "stays negligible (already the lowest level)" in clamp.because
    )


def test_label_only_exposure_drops_the_public_score_adjustment(matrix, make_inputs, make_headline):
    head = make_headline(auc=(0.70, 0.66, 0.74))
    scores = rate(make_inputs(access="public", headline=head), matrix=matrix)
    labels = rate(make_inputs(access="public", outputs="label", headline=head), matrix=matrix)
    rounded = rate(make_inputs(access="public", rounding=1, headline=head), matrix=matrix)
    assert "LIK-PUBLIC-SCORES" in {r.rule_id for r in scores.rules}
    assert "LIK-PUBLIC-SCORES" not in {r.rule_id for r in labels.rules} | {
        r.rule_id for r in rounded.rules
    }


def test_every_fired_rule_is_recorded_with_its_inputs(matrix, make_inputs, make_headline):
    inputs = make_inputs(
        categories=("financial",),
        data_subjects=200_000,
        access="public",
        headline=make_headline(**STRONG),
    )
    rating = rate(inputs, matrix=matrix, appetite="limited")
    ids = [r.rule_id for r in rating.rules]
    assert ids == [
        "SEV-HIGHLY-PERSONAL",
        "LIK-SEVERE",
        "SEV-LARGE-SCALE",
        "LIK-PUBLIC-SCORES",
        "SEVERITY-FINAL",
        "LIKELIHOOD-FINAL",
        "MATRIX",
        "APPETITE",
    ]
    raw, _ = fact_values(inputs)
    for rule in rating.rules:
        assert rule.because and rule.inputs, rule.rule_id
        for name, value in rule.inputs.items():
            if name in FACTS:
                assert raw[name] == value, (rule.rule_id, name)
    assert rating.rules[1].inputs["auc_lower"] == pytest.approx(0.88)
    assert rating.model_dump(mode="json")  # plain JSON


def test_matrix_recorded_for_the_heat_map(matrix, make_inputs):
    for scale, size in (("cnil-4", 4), ("nist-5", 5)):
        rating = rate(make_inputs(), matrix=matrix, scale=scale)
        assert len(rating.matrix) == size and all(len(row) == size for row in rating.matrix)
        sev, lik = rating.levels.index(rating.severity), rating.levels.index(rating.likelihood)
        assert rating.matrix[sev][lik] == rating.level
        assert rating.matrix_version == "1.0.0"


def test_nist_five_level_scale_follows_sp800_30_table(matrix, make_inputs, make_headline):
    spec = matrix.scale("nist-5")
    assert spec.matrix["very high"] == ["low", "moderate", "high", "very high", "very high"]
    assert spec.matrix["very low"] == ["very low"] * 5
    rating = rate(
        make_inputs(categories=("financial",), headline=make_headline(auc=(0.6, 0.56, 0.64))),
        matrix=matrix,
        scale="nist-5",
    )
    assert (rating.severity, rating.likelihood, rating.level) == ("high", "moderate", "moderate")


# ------------------------------------------------------------------- appetite
def test_appetite_comparison(matrix, make_inputs, make_headline):
    risky = make_inputs(categories=("health",), access="public", headline=make_headline(**STRONG))
    above = rate(risky, matrix=matrix, appetite="limited")
    assert above.within_appetite is False and above.appetite == "limited"
    assert (
        above.rules[-1].result == "above appetite"
        and "treatment is needed" in above.rules[-1].because
    )
    calm = rate(
        make_inputs(categories=("pseudonymous",), headline=make_headline(**NONE)),
        matrix=matrix,
        appetite="limited",
    )
    assert calm.within_appetite is True
    assert rate(calm_inputs := make_inputs(), matrix=matrix).within_appetite is None
    assert calm_inputs.headline is not None


def test_appetite_is_matched_loosely_on_the_scale(matrix, make_inputs):
    rating = rate(make_inputs(), matrix=matrix, scale="nist-5", appetite="Very_Low")
    assert rating.appetite == "very low"


def test_appetite_not_on_the_scale_is_a_clear_policy_error(matrix, make_inputs):
    with pytest.raises(PolicyError) as err:
        rate(make_inputs(), matrix=matrix, scale="cnil-4", appetite="moderate")
    message = str(err.value)
    assert "risk.appetite" in message and "'moderate' is not a level of the cnil-4 scale" in message
    assert "negligible, limited, significant, maximum" in message


def test_unknown_scale_names_the_matrix_file(matrix, make_inputs):
    with pytest.raises(CatalogueError, match="risk scale 'iso-3' is not defined.*cnil-4, nist-5"):
        rate(make_inputs(), matrix=matrix, scale="iso-3")


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        (
            "{fact: tpr_1pct_lower, op: ge, value: 0.03}",
            "{fact: tpr_1pc_lower, op: ge, value: 0.03}",
            "tpr_1pc_lower",
            "unknown fact 'tpr_1pc_lower' (did you mean 'tpr_1pct_lower'?)",
        ),
        (
            "{fact: tpr_1pct_lower, op: ge, value: 0.03}",
            "{fact: tpr_1pct_lower, op: ge, value: 3}",
            "value: 3}",
            "proportion between 0 and 1 (write 3% as 0.03)",
        ),
        (
            "{fact: access, op: eq, value: internal}",
            "{fact: access, op: gt, value: internal}",
            "op: gt, value: internal",
            "operator 'gt' does not apply to access",
        ),
        (
            "{fact: access, op: eq, value: internal}",
            "{fact: access, op: eq, value: intranet}",
            "value: intranet",
            "'intranet' is not a possible value of access; use public, authenticated, internal",
        ),
        (
            "value: [financial, location]",
            "value: [financial, postcode]",
            "value: [financial, postcode]",
            "'postcode' is not a data category",
        ),
        (
            "result: {cnil-4: significant, nist-5: high}\n    because: >-\n      the records hold",
            "result: {cnil-4: severe, nist-5: high}\n    because: >-\n      the records hold",
            "cnil-4: severe",
            "'severe' is not a level of cnil-4",
        ),
        (
            "no attack did demonstrably better than random guessing (strongest:",
            "no attack did demonstrably better than random guessing ({strongest}:",
            "({strongest}:",
            "unknown placeholder '{strongest}' (did you mean 'strongest_attack'?)",
        ),
    ],
)
def test_matrix_errors_name_file_and_line(write_matrix, line_of, old, new, marker, message):
    path = write_matrix(old, new)
    with pytest.raises(CatalogueError) as err:
        load_matrix(path)
    text = str(err.value)
    assert message in text
    line = line_of(path, marker)
    assert f"matrix.yaml:{line}" in text or f"matrix.yaml:{line - 1}" in text, text
    assert isinstance(err.value, ComplianceMiaError)


def test_a_missing_default_rule_is_an_error(write_matrix, line_of):
    path = write_matrix(
        "  - id: SEV-DEFAULT\n    result:",
        "  - id: SEV-DEFAULT\n    when: {fact: monitored, op: eq, value: true}\n    result:",
    )
    with pytest.raises(CatalogueError, match="last severity rule must have no 'when'") as err:
        load_matrix(path)
    assert f"matrix.yaml:{line_of(path, 'fact: monitored, op: eq, value: true')}" in str(err.value)


def test_an_uncovered_category_is_an_error(write_matrix):
    path = write_matrix("value: [pseudonymous]", "value: [ordinary_personal]")
    with pytest.raises(CatalogueError, match="do not name the data categor.*pseudonymous"):
        load_matrix(path)


def test_unknown_key_and_duplicate_key_are_located(write_matrix, line_of, tmp_path):
    path = write_matrix("    applies_to: severity\n", "    applies_to: severity\n    aplies: x\n")
    with pytest.raises(CatalogueError, match="unknown field") as err:
        load_matrix(path)
    assert f"matrix.yaml:{line_of(path, 'aplies: x')}" in str(err.value)
    dup = write_matrix('version: "1.0.0"\n', 'version: "1.0.0"\nversion: "2"\n')
    with pytest.raises(CatalogueError, match="duplicate key 'version'"):
        load_matrix(dup)


def test_analyst_can_add_a_rule_without_python(write_matrix, make_inputs, make_headline):
    path = write_matrix(
        "adjustments:\n",
        "adjustments:\n"
        "  - id: LIK-CHILDREN-PUBLIC\n"
        "    applies_to: likelihood\n"
        "    shift: 1\n"
        "    when:\n"
        "      all:\n"
        "        - {fact: categories, op: intersects, value: [children]}\n"
        "        - {fact: label_only_exposure, op: eq, value: false}\n"
        "    because: children's records ({matched}) with {exposure_text}\n",
    )
    custom = load_matrix(path)
    rating = rate(
        make_inputs(categories=("children",), headline=make_headline(**NONE)), matrix=custom
    )
    rule = next(r for r in rating.rules if r.rule_id == "LIK-CHILDREN-PUBLIC")
    assert rule.result == "limited"
    assert "children's records (children) with authenticated access" in rule.because
    assert rule.inputs["categories"] == ["children"] and rule.inputs["label_only_exposure"] is False


def test_missing_matrix_file_is_reported(tmp_path):
    with pytest.raises(CatalogueError, match="nope.yaml: file not found"):
        load_matrix(tmp_path / "nope.yaml")


def test_every_fact_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "risk-and-controls.md").read_text(
        encoding="utf-8"
    )
    missing = [name for name in FACTS if f"`{name}`" not in doc]
    assert not missing


def test_a_level_resting_on_one_figure_at_its_threshold_says_so(matrix):
    """Issue 11: a rating that turns on ε alone at a boundary must say so in the rule trace."""
    from compliance_mia.assessment import EpsilonBound, Headline, Interval
    from compliance_mia.risk import RiskInputs, rate

    head = Headline(
        strongest_attack="loss",
        auc=Interval(estimate=0.6, lower=0.58, upper=0.62, confidence=0.95, method="test"),
        tpr_at_fpr=[],
        epsilon=EpsilonBound(
            epsilon_lower=4.19, delta=1e-6, confidence=0.95, thresholds_examined=10, correction="test"
        ),
        selection_correction="",
    )
    inputs = RiskInputs(
        categories=("ordinary_personal",), data_subjects=1000, membership_reveals_condition=False,
        outputs="label", access="internal", rounding=None, top_k=None, query_limited=False, monitored=True,
        headline=head,
    )  # fmt: skip
    lik = next(r for r in rate(inputs, matrix=matrix).rules if r.dimension == "likelihood")
    assert lik.rule_id == "LIK-SEVERE"
    assert "rests on one figure alone" in lik.because and "empirical ε lower bound" in lik.because
    far = head.model_copy(update={"epsilon": head.epsilon.model_copy(update={"epsilon_lower": 9.0})})
    lik = next(r for r in rate(inputs.__class__(**{**inputs.__dict__, "headline": far}), matrix=matrix).rules
               if r.dimension == "likelihood")  # fmt: skip
    assert "rests on one figure alone" not in lik.because
