"""One realistic Assessment shared by every renderer test.

Built by hand from the models in :mod:`compliance_mia.assessment` (the
contract), never by running attacks: renderer tests must not depend on the
attack suite. The figures mimic an audit of a random forest trained on a
health-insurance dataset (22,272 people, 20% of them training members) that
returns full probabilities to authenticated callers. Curves come from a
binormal model so they look like real ROC curves; everything is
deterministic.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from scipy.stats import beta, norm

from compliance_mia.assessment import (
    ActionPlanItem,
    Assessment,
    AttackMetrics,
    AttackOutcome,
    ChangeItem,
    ChangeSummary,
    Citation,
    ControlMapping,
    ControlRecommendation,
    CurvePoints,
    DataSummary,
    EpsilonBound,
    Evidence,
    ExposureSummary,
    FileEvidence,
    Finding,
    FrameworkRef,
    Headline,
    Histogram,
    Interval,
    ModelSummary,
    OperatingPoint,
    Plan,
    PlannedAttack,
    RecordRisk,
    ReferenceModelsInfo,
    RiskRating,
    RuleFired,
    SignOffInfo,
    SliceResult,
    SystemSummary,
    ThreatRef,
    TieReport,
    Verdict,
    WhatIfResult,
)

N_MEMBERS = 4454
N_NON_MEMBERS = 4454
CONFIDENCE = 0.95
FPR_LEVELS = (0.001, 0.01, 0.1)
LEVELS = ["negligible", "limited", "significant", "maximum"]
# matrix[severity][likelihood] on the CNIL 4-level scale.
MATRIX = [
    ["negligible", "negligible", "limited", "limited"],
    ["negligible", "limited", "significant", "significant"],
    ["limited", "significant", "significant", "maximum"],
    ["limited", "significant", "maximum", "maximum"],
]


def proportion(count: int, n: int) -> Interval:
    """Clopper–Pearson interval, as the metrics module reports it."""
    alpha = 1 - CONFIDENCE
    lower = 0.0 if count == 0 else float(beta.ppf(alpha / 2, count, n - count + 1))
    upper = 1.0 if count == n else float(beta.ppf(1 - alpha / 2, count + 1, n - count))
    return Interval(
        estimate=count / n,
        lower=lower,
        upper=upper,
        confidence=CONFIDENCE,
        method="clopper-pearson",
        count=count,
        n=n,
    )


def auc_interval(auc: float, half_width: float) -> Interval:
    return Interval(
        estimate=auc,
        lower=auc - half_width,
        upper=auc + half_width,
        confidence=CONFIDENCE,
        method="bootstrap-percentile (1,000 resamples)",
    )


def binormal(separation: float, slope: float = 1.0) -> tuple[CurvePoints, float]:
    """ROC curve TPR = Φ(a + b Φ⁻¹(FPR)) on a log grid, and its AUC."""
    fpr = [0.0] + [10 ** (-4 + 4 * i / 60) for i in range(61)]
    tpr = [0.0] + [
        float(norm.cdf(separation + slope * norm.ppf(min(f, 1 - 1e-12)))) for f in fpr[1:]
    ]
    fpr[-1], tpr[-1] = 1.0, 1.0
    auc = float(norm.cdf(separation / math.sqrt(1 + slope**2)))
    return CurvePoints(fpr=[round(f, 6) for f in fpr], tpr=[round(t, 6) for t in tpr]), auc


def histogram(separation: float) -> Histogram:
    edges = [round(-4 + 0.5 * i, 2) for i in range(21)]

    def counts(mean: float, n: int) -> list[int]:
        cdf = [0.0] + [norm.cdf(e, loc=mean) for e in edges[1:-1]] + [1.0]
        bins = [int(round(n * (b - a))) for a, b in zip(cdf, cdf[1:], strict=False)]
        bins[len(bins) // 2] += n - sum(bins)  # counts add up to the group size
        return bins

    return Histogram(
        edges=edges,
        members=counts(separation / 2, N_MEMBERS),
        non_members=counts(-separation / 2, N_NON_MEMBERS),
    )


def operating_points(
    separation: float, slope: float, *, binary: bool = False
) -> list[OperatingPoint]:
    points = []
    for fpr in FPR_LEVELS:
        needed = math.ceil(10 / fpr)
        if N_NON_MEMBERS < needed:
            points.append(
                OperatingPoint(
                    fpr=fpr,
                    tpr=Interval(
                        estimate=None,
                        lower=None,
                        upper=None,
                        confidence=CONFIDENCE,
                        method="clopper-pearson",
                        count=None,
                        n=N_MEMBERS,
                    ),
                    measurable=False,
                    reason=f"under 10 expected false positives with {N_NON_MEMBERS:,} non-members",
                    non_members_needed=needed,
                )
            )
            continue
        if binary:
            points.append(
                OperatingPoint(
                    fpr=fpr,
                    tpr=Interval(
                        estimate=None,
                        lower=None,
                        upper=None,
                        confidence=CONFIDENCE,
                        method="clopper-pearson",
                        count=None,
                        n=N_MEMBERS,
                    ),
                    measurable=False,
                    reason="the attack gives two score values; no threshold yields this rate",
                )
            )
            continue
        tpr = float(norm.cdf(separation + slope * norm.ppf(fpr)))
        count = int(round(tpr * N_MEMBERS))
        interval = proportion(count, N_MEMBERS)
        points.append(
            OperatingPoint(
                fpr=fpr,
                tpr=interval,
                measurable=True,
                min_detectable_tpr=round(fpr + 2.5 * math.sqrt(fpr * (1 - fpr) / N_MEMBERS), 6),
                ppv=round(interval.estimate / (interval.estimate + fpr), 6),
                threshold=round(2.0 - separation * fpr, 6),
            )
        )
    return points


def outcome(
    name: str,
    title: str,
    family: str,
    summary: str,
    signal: str,
    separation: float,
    slope: float,
    *,
    reference_mode: str | None = None,
    reference_models: int = 0,
    epsilon: float | None = None,
    ties: TieReport | None = None,
    binary: bool = False,
    seconds: float = 1.0,
) -> AttackOutcome:
    roc, auc = binormal(separation, slope)
    points = operating_points(separation, slope, binary=binary)
    return AttackOutcome(
        name=name,
        title=title,
        family=family,
        summary=summary,
        signal=signal,
        reference_mode=reference_mode,
        reference_models=reference_models,
        metrics=AttackMetrics(
            n_members=N_MEMBERS,
            n_non_members=N_NON_MEMBERS,
            auc=auc_interval(round(auc, 4), 0.0081),
            advantage=Interval(
                estimate=round(2 * auc - 1, 4) * 0.8,
                lower=round(2 * auc - 1, 4) * 0.8 - 0.017,
                upper=round(2 * auc - 1, 4) * 0.8 + 0.017,
                confidence=CONFIDENCE,
                method="bootstrap-percentile (1,000 resamples)",
            ),
            operating_points=points,
            epsilon=None
            if epsilon is None
            else EpsilonBound(
                epsilon_lower=epsilon,
                delta=1 / 22272,
                confidence=CONFIDENCE,
                thresholds_examined=200,
                correction="Bonferroni over 200 thresholds (one-sided Clopper–Pearson at α/400)",
            ),
            roc=roc if not binary else CurvePoints(fpr=[0.0, 0.262, 1.0], tpr=[0.0, 0.362, 1.0]),
            histogram=None if binary else histogram(separation),
            ties=ties,
        ),
        parameters={"reference_models": reference_models} if reference_models else {},
        duration_seconds=seconds,
    )


#: What the controls catalogue would record for this scope (a fixture, not the shipped catalogue).
FRAMEWORKS = [
    FrameworkRef(id="gdpr", title="GDPR (Regulation (EU) 2016/679)", short="GDPR", in_scope=True),
    FrameworkRef(id="hipaa", title="HIPAA Security and Privacy Rules (45 CFR Part 164)", short="HIPAA", in_scope=True),
    FrameworkRef(id="eu-ai-act", title="EU AI Act (Regulation (EU) 2024/1689)", short="EU AI Act", in_scope=True),
    FrameworkRef(id="owasp_ml_top10", title="OWASP Machine Learning Security Top 10 (2023)", short="OWASP ML Top 10",
                 in_scope=False),
    FrameworkRef(id="mitre_atlas", title="MITRE ATLAS", short="MITRE ATLAS", in_scope=False, url="https://atlas.mitre.org"),
    FrameworkRef(
        id="nist_ai_100_2",
        title="NIST AI 100-2 E2025 Adversarial Machine Learning (taxonomy)",
        short="NIST AI 100-2",
        in_scope=False,
        verified=False,
        note="Taxonomy identifiers not checked against the published report.",
    ),
]
THREATS = [
    ThreatRef(
        framework="mitre_atlas",
        id="AML.T0024.000",
        title="Exfiltration via AI Inference API: Infer Training Data Membership",
        href="https://atlas.mitre.org/techniques/AML.T0024.000",
    ),
    ThreatRef(framework="owasp_ml_top10", id="ML04:2023", title="Membership Inference Attack"),
    ThreatRef(framework="nist_ai_100_2", id="NISTAML.033", title="Membership inference", verified=False),
]
CITATIONS = [
    Citation(section="scope", framework="gdpr", clause="Art. 35(7)(a)", requirement="a systematic description"),
    Citation(section="scope.special_category", framework="gdpr", clause="Art. 9(1)",
             requirement="a special category of personal data", verified=False),
    Citation(section="scope.special_category", framework="hipaa", clause="160.103",
             requirement="protected health information", verified=False),
    Citation(section="threats.identifiers", framework="eu-ai-act", clause="Art. 15(5)",
             requirement="Attacks on confidentiality of high-risk AI systems"),
    Citation(section="method", framework="gdpr", clause="Art. 35(7)(c)", requirement="an assessment of the risks"),
    Citation(section="method", framework="hipaa", clause="164.514(b)(1)",
             requirement="methods and results documented", verified=False),
    Citation(section="risk", framework="gdpr", clause="Art. 35(7)(c)", requirement="an assessment of the risks"),
    Citation(section="risk", framework="hipaa", clause="164.308(a)(1)(ii)(A)", requirement="risk analysis"),
    Citation(section="controls", framework="gdpr", clause="Art. 35(7)(d)", requirement="the measures envisaged"),
    Citation(section="controls", framework="gdpr", clause="Art. 25", requirement="by design and by default",
             verified=False),
    Citation(section="change", framework="gdpr", clause="Art. 35(11)", requirement="review on change"),
    Citation(section="summary.prior_consultation", framework="gdpr", clause="Art. 36(1)",
             requirement="prior consultation of the supervisory authority"),
]


def build_assessment() -> Assessment:
    attacks = [
        outcome(
            "rmia",
            "RMIA (relative membership inference, offline)",
            "reference",
            "Compares how likely the model finds each record against how likely models trained "
            "without it find the record.",
            "predicted probabilities",
            1.605,
            0.98,
            reference_mode="offline",
            reference_models=4,
            epsilon=2.91,
            seconds=41.3,
        ),
        outcome(
            "lira_offline",
            "LiRA (likelihood ratio, offline, fixed variance)",
            "reference",
            "Tests whether the model's confidence on a record is unusually high compared with "
            "reference models that never saw it.",
            "predicted probabilities",
            1.379,
            1.3,
            reference_mode="offline",
            reference_models=4,
            epsilon=1.74,
            seconds=38.9,
        ),
        outcome(
            "loss_threshold",
            "Loss threshold",
            "threshold",
            "Flags records on which the model's error is unusually small.",
            "loss of the true label",
            0.832,
            1.16,
            epsilon=0.83,
            ties=TieReport(
                largest_tie_fraction=0.31,
                distinct_scores=3121,
                policy="ties broken at random with a seeded generator",
            ),
            seconds=0.4,
        ),
        outcome(
            "confidence_threshold",
            "Confidence threshold",
            "threshold",
            "Flags records on which the model is unusually confident.",
            "probability of the true label",
            0.81,
            1.17,
            epsilon=0.79,
            seconds=0.3,
        ),
        outcome(
            "gap",
            "Gap attack (label only)",
            "label-only",
            "Guesses that every correctly classified record was a training member.",
            "predicted label",
            0.3,
            1.0,
            binary=True,
            seconds=0.1,
        ),
    ]
    strongest = attacks[0].metrics
    plan = Plan(
        attacks=[
            PlannedAttack(
                name=a.name,
                title=a.title,
                selected=True,
                reason="the deployed model returns probabilities, which this attack reads",
                requires=["probabilities"],
                needs_reference_models=a.reference_models > 0,
                estimated_seconds=a.duration_seconds,
            )
            for a in attacks[:4]
        ]
        + [
            PlannedAttack(
                name="gap",
                title="Gap attack (label only)",
                selected=True,
                reason="needs only labels; shows what remains if outputs are cut to labels",
                requires=["label"],
            ),
            PlannedAttack(
                name="label_only_robustness",
                title="Label-only robustness",
                selected=False,
                reason="skipped: probabilities are exposed, so stronger attacks apply and the "
                "16 perturbed queries per record would exceed the query budget",
                requires=["label"],
                estimated_seconds=120.0,
            ),
            PlannedAttack(
                name="lira_online",
                title="LiRA (online)",
                selected=False,
                reason="skipped: online reference models need 64+ models to beat the offline "
                "variant; budget allows 4",
                requires=["probabilities"],
                needs_reference_models=True,
            ),
        ],
        reference_models=ReferenceModelsInfo(
            count=4,
            mode="offline",
            estimator="RandomForestClassifier",
            surrogate=False,
            pool_size=13364,
            backend="loky",
            cache_hits=0,
            trained=4,
            seconds=61.2,
        ),
        budget_seconds=600,
        notes=[
            "Reference models are trained on random halves of the 13,364-record population "
            "sample, never on audit records."
        ],
    )
    slices = [
        SliceResult(
            column="class",
            value="yes",
            n_members=2613,
            n_non_members=2598,
            auc=auc_interval(0.861, 0.011),
            tpr_at_fpr=proportion(601, 2613),
            fpr=0.01,
        ),
        SliceResult(
            column="class",
            value="no",
            n_members=1841,
            n_non_members=1856,
            auc=auc_interval(0.889, 0.012),
            tpr_at_fpr=proportion(512, 1841),
            fpr=0.01,
        ),
        SliceResult(
            column="race",
            value="white",
            n_members=3591,
            n_non_members=3602,
            auc=auc_interval(0.870, 0.009),
            tpr_at_fpr=proportion(880, 3591),
            fpr=0.01,
        ),
        SliceResult(
            column="race",
            value="black",
            n_members=512,
            n_non_members=498,
            auc=auc_interval(0.884, 0.024),
            tpr_at_fpr=proportion(139, 512),
            fpr=0.01,
        ),
        SliceResult(
            column="race",
            value="other",
            n_members=351,
            n_non_members=354,
            auc=auc_interval(0.912, 0.027),
            tpr_at_fpr=proportion(111, 351),
            fpr=0.01,
        ),
        SliceResult(
            column="region",
            value="northcentral",
            n_members=38,
            n_non_members=41,
            auc=auc_interval(0.83, 0.09),
            tpr_at_fpr=None,
            fpr=0.01,
            small=True,
        ),
    ]
    records = [
        RecordRisk(
            record_id=f"HI-{7 * i * i + 1033:06d}",
            is_member=i != 7,
            score=round(9.5 - 0.31 * i, 4),
            rank=i + 1,
            p_value=round(0.00022 * (i + 1), 6),
            flagged=i < 15,
        )
        for i in range(20)
    ]
    findings = [
        Finding(
            id="F-LEAK-01",
            title="The model reveals who was in its training data",
            kind="leakage",
            severity="high",
            detail="At a 1% false-positive rate the strongest attack (RMIA) identifies about "
            "one in "
            "four training members.",
            figures={
                "auc": strongest.auc.estimate,
                "tpr_at_1pct_fpr": strongest.operating_points[1].tpr.estimate,
            },
        ),
        Finding(
            id="F-SLICE-01",
            title="People in the smallest ethnic group are more exposed",
            kind="slice",
            severity="medium",
            detail="AUC for race = other is 0.912 against 0.870 for race = white.",
            figures={"column": "race", "value": "other", "auc": 0.912},
        ),
        Finding(
            id="F-SAMPLE-01",
            title="The 0.1% false-positive figure cannot be measured",
            kind="sample-size",
            severity="info",
            detail="4,454 non-members support at most 4 false positives at 0.1%; "
            "10,000 are needed.",
        ),
        Finding(
            id="F-CONF-01",
            title="Full probabilities are returned to every authenticated caller",
            kind="configuration",
            severity="medium",
            detail="Returning only the predicted label removes most of the measured leakage.",
        ),
    ]
    risk = RiskRating(
        scale="cnil-4",
        levels=LEVELS,
        severity="maximum",
        likelihood="significant",
        level="maximum",
        rules=[
            RuleFired(
                dimension="severity",
                rule_id="SEV-ART9",
                result="maximum",
                because="The training data contains health data (GDPR Art. 9 special category); "
                "being identified as a member reveals a person is insured through this plan.",
                inputs={"categories": ["health", "special-category"]},
            ),
            RuleFired(
                dimension="likelihood",
                rule_id="LIK-TPR-1PCT",
                result="significant",
                because="The strongest attack identifies 25.0% of members while wrongly flagging "
                "only 1% of non-members (threshold for 'significant': 5%).",
                inputs={"tpr_at_1pct_fpr": strongest.operating_points[1].tpr.estimate},
            ),
            RuleFired(
                dimension="adjustment",
                rule_id="ADJ-AUTH",
                result="no change",
                because="Only authenticated users can query the model; this does not lower the "
                "likelihood because any customer account can query it.",
                inputs={},
            ),
            RuleFired(
                dimension="level",
                rule_id="MATRIX",
                result="maximum",
                because="Severity 'maximum' with likelihood 'significant' gives level 'maximum' "
                "in the CNIL matrix.",
                inputs={},
            ),
            RuleFired(
                dimension="appetite",
                rule_id="APPETITE",
                result="exceeded",
                because="The declared appetite is 'limited'; 'maximum' is above it.",
                inputs={},
            ),
        ],
        appetite="limited",
        within_appetite=False,
        matrix_version="cnil-4/2025.1",
        matrix=MATRIX,
    )
    residual = RiskRating(
        scale="cnil-4",
        levels=LEVELS,
        severity="maximum",
        likelihood="negligible",
        level="limited",
        rules=[
            RuleFired(
                dimension="likelihood",
                rule_id="LIK-TPR-1PCT",
                result="negligible",
                because="With labels only, the strongest attack identifies 1.8% of members at "
                "1% false positives (below 2%).",
                inputs={"tpr_at_1pct_fpr": 0.018},
            )
        ],
        appetite="limited",
        within_appetite=True,
        matrix_version="cnil-4/2025.1",
        matrix=MATRIX,
    )
    labels_only = WhatIfResult(
        control_id="output-labels-only",
        label="return labels only",
        kind="output",
        strongest_attack="gap",
        auc=auc_interval(0.552, 0.009),
        tpr_at_1pct_fpr=proportion(80, N_MEMBERS),
        attacks_run=["gap"],
        per_attack_auc={"gap": 0.552},
        residual=residual,
        utility_before=0.742,
        utility_after=0.742,
        note="Accuracy is unchanged: the label is what the service uses.",
    )
    rounding = WhatIfResult(
        control_id="output-rounding",
        label="round probabilities to 1 decimal",
        kind="output",
        strongest_attack="rmia",
        auc=auc_interval(0.791, 0.010),
        tpr_at_1pct_fpr=proportion(294, N_MEMBERS),
        attacks_run=["rmia", "loss_threshold", "confidence_threshold"],
        per_attack_auc={"rmia": 0.791, "loss_threshold": 0.69, "confidence_threshold": None},
        utility_before=0.742,
        utility_after=0.742,
    )
    regularise = WhatIfResult(
        control_id="regularisation",
        label="min_samples_leaf = 20",
        kind="training",
        strongest_attack="rmia",
        auc=auc_interval(0.613, 0.011),
        tpr_at_1pct_fpr=proportion(138, N_MEMBERS),
        attacks_run=["rmia", "loss_threshold"],
        per_attack_auc={"rmia": 0.613, "loss_threshold": 0.571},
        utility_before=0.742,
        utility_after=0.731,
    )
    gdpr = ControlMapping(
        framework="GDPR", clauses=["Art. 25(1)", "Art. 32(1)(b)", "Art. 5(1)(c)"], unverified=["Art. 25(1)"]
    )
    controls = [
        ControlRecommendation(
            control_id="output-labels-only",
            title="Return only the predicted label",
            category="output",
            priority=1,
            why="Most measured leakage comes from the probabilities the API returns.",
            description="Change the prediction API to return the decision, not the probabilities.",
            mitigates=["rmia", "lira_offline", "loss_threshold", "confidence_threshold"],
            cost="low",
            mappings=[
                gdpr,
                ControlMapping(framework="HIPAA", clauses=["164.312(a)(1)"]),
                ControlMapping(framework="OWASP AI Exchange", clauses=["#OBSCURECONFIDENCE"]),
                ControlMapping(framework="MITRE ATLAS", clauses=["AML.M0002"]),
            ],
            what_if=labels_only,
        ),
        ControlRecommendation(
            control_id="regularisation",
            title="Regularise the model (larger leaves)",
            category="training",
            priority=2,
            why="The forest memorises individual records; larger leaves generalise.",
            mitigates=["rmia", "lira_offline", "loss_threshold", "confidence_threshold", "gap"],
            cost="medium",
            mappings=[
                ControlMapping(framework="GDPR", clauses=["Art. 25(1)"]),
                ControlMapping(framework="EU AI Act", clauses=["Art. 15(5)"]),
            ],
            what_if=regularise,
        ),
        ControlRecommendation(
            control_id="output-rounding",
            title="Round returned probabilities",
            category="output",
            priority=3,
            why="Coarser probabilities carry less information per query.",
            mitigates=["loss_threshold", "confidence_threshold"],
            cost="low",
            mappings=[
                ControlMapping(framework="OWASP AI Exchange", clauses=["#OBSCURECONFIDENCE"])
            ],
            what_if=rounding,
        ),
        ControlRecommendation(
            control_id="rate-limit",
            title="Limit and monitor queries per account",
            category="access",
            priority=4,
            why="Attacks need many queries; limits and monitoring raise their cost.",
            mitigates=["label_only_robustness"],
            cost="low",
            mappings=[
                ControlMapping(framework="MITRE ATLAS", clauses=["AML.M0004", "AML.M0024"]),
                ControlMapping(framework="HIPAA", clauses=["164.312(b)"]),
            ],
            in_place=True,
        ),
    ]
    change = ChangeSummary(
        previous_id="a3f9c2e17b5d4e08",
        previous_date="2025-05-20T08:02:11Z",
        rating_old="significant",
        rating_new="maximum",
        worsened=True,
        items=[
            ChangeItem(
                figure="Overall rating",
                old="significant",
                new="maximum",
                significant=None,
                direction="worse",
                unit="",
            ),
            ChangeItem(
                figure="AUC (strongest attack)",
                old=0.781,
                new=strongest.auc.estimate,
                significant=True,
                direction="worse",
                note="95% intervals do not overlap",
                unit="score",
            ),
            ChangeItem(
                figure="TPR at 1% FPR",
                old=0.118,
                new=strongest.operating_points[1].tpr.estimate,
                significant=True,
                direction="worse",
                note="Fisher exact test on member counts, p < 0.001",
                unit="share",
            ),
            ChangeItem(
                figure="TPR at 10% FPR",
                old=0.598,
                new=strongest.operating_points[2].tpr.estimate,
                significant=False,
                direction="unchanged",
                note="Fisher exact test on member counts, p = 0.18",
                unit="share",
            ),
        ],
        new_findings=["F-SLICE-01: People in the smallest ethnic group are more exposed"],
        resolved_findings=["F-DATA-02: Duplicate record IDs in the non-member file"],
        changed_files=["model: sha256 5d1c…e2a0 → 9b7f…41c3"],
    )
    return Assessment(
        assessment_id="7c1e4b9a2f3d5e60",
        title="Membership Inference Privacy Impact Assessment",
        organisation="Northwind Health Insurance",
        system=SystemSummary(
            name="Claims triage model",
            owner="Claims Analytics",
            version="2.3.0",
            assessment_type="periodic",
            description="Random forest that predicts whether a claim needs manual review.",
            purpose="Route health insurance claims to manual review or fast-track payment.",
            controller="Northwind Health Insurance Ltd",
            contact="dpo@northwind.example",
        ),
        model=ModelSummary(
            format="skops", estimator="RandomForestClassifier", classes=["no", "yes"]
        ),
        data=DataSummary(
            categories=["health", "special-category", "financial"],
            data_subjects=22272,
            membership_reveals_condition=False,
            description="Health insurance survey records (Ecdat HI).",
            n_members=N_MEMBERS,
            n_non_members=N_NON_MEMBERS,
            n_population=13364,
            population_source="held-out records from the same survey, never used for training",
            n_features=12,
            feature_names=[
                "whrswk",
                "hhi",
                "whi",
                "hhi2",
                "education",
                "race",
                "hispanic",
                "experience",
                "kidslt6",
                "kids618",
                "husby",
                "region",
            ],
            slice_columns=["class", "race", "region"],
            class_balance={"no": 0.41, "yes": 0.59},
            target_accuracy_members=1.0,
            target_accuracy_non_members=0.742,
            checks=[
                "no record ID appears in both members and non-members",
                "no missing values in the 12 feature columns",
                "class balance of members and non-members differs by less than 1 point",
            ],
        ),
        exposure=ExposureSummary(
            outputs="probabilities",
            access="authenticated",
            query_limit={"per_day": 10000, "per_minute": None},
            monitored=False,
            description="Every authenticated caller receives the probability of each class for any "
            "input they submit.",
        ),
        regulations=["gdpr", "hipaa", "eu-ai-act"],
        frameworks=FRAMEWORKS,
        threats=THREATS,
        citations=CITATIONS,
        seed=20251120,
        statistics={
            "confidence_level": CONFIDENCE,
            "fpr_levels": list(FPR_LEVELS),
            "bootstrap_resamples": 1000,
            "delta": 1 / 22272,
            "member_prior": 0.5,
            "min_false_positives": 10,
            "top_records": 20,
        },
        plan=plan,
        attacks=attacks,
        headline=Headline(
            strongest_attack="rmia",
            auc=strongest.auc,
            tpr_at_fpr=strongest.operating_points,
            epsilon=strongest.epsilon,
            selection_correction="headline intervals are the strongest attack's own 95% "
            "intervals; the "
            "ε bound is Bonferroni-corrected over the 5 attacks it was chosen from",
            reference_fpr=0.01,
        ),
        slices=slices,
        records=records,
        findings=findings,
        risk=risk,
        controls=controls,
        what_if=[labels_only, rounding, regularise],
        residual_risk=residual,
        action_plan=[
            ActionPlanItem(
                control="output-labels-only",
                owner="ML platform team",
                due="2025-12-15",
                status="planned",
                note="API v3 returns decision only",
            ),
            ActionPlanItem(
                control="regularisation",
                owner="Claims Analytics",
                due="2026-01-31",
                status="in-progress",
            ),
        ],
        signoff=SignOffInfo(
            assessor="A. Rahman",
            assessor_role="Privacy engineer",
            next_review="2026-05-20",
            triggers=[
                "model retrained or its training data changed",
                "deployed outputs or access widened",
                "new state-of-the-art membership inference attack published",
            ],
        ),
        verdict=Verdict(
            rule_id="DEC-AFTER-ACTIONS",
            outcome="deploy-after-actions",
            headline="Do not deploy until action 1 is done; then deployable within the risk appetite",
            because="the risk is maximum, above the appetite (limited); the measured effect of action 1 "
            "brings it to limited, within the appetite",
            actions=["output-labels-only"],
            residual_high=False,
            prior_consultation=False,
            next_steps=[
                "action 1 is implemented and verified by re-running this assessment",
                "the Data Protection Officer gives an opinion on this assessment",
            ],
        ),
        change=change,
        warnings=[
            "31% of records share the same loss-threshold score (probability 1.0); ties were "
            "broken at random with a seeded generator."
        ],
        evidence=Evidence(
            files=[
                FileEvidence(
                    role="policy", name="claims-triage.yaml", sha256="4f" * 32, bytes=2411
                ),
                FileEvidence(
                    role="model",
                    name="claims-rf-2.3.0.skops",
                    sha256="9b7f" + "1c" * 28 + "41c3",
                    bytes=18_204_511,
                ),
                FileEvidence(
                    role="members", name="members.parquet", sha256="a1" * 32, bytes=190_544
                ),
                FileEvidence(
                    role="non_members", name="non_members.parquet", sha256="b2" * 32, bytes=190_102
                ),
                FileEvidence(
                    role="population", name="population.parquet", sha256="c3" * 32, bytes=560_871
                ),
            ],
            tool_version="0.1.0",
            versions={
                "numpy": "2.1.3",
                "scikit-learn": "1.5.2",
                "scipy": "1.14.1",
                "pandas": "2.2.3",
                "weasyprint": "70.0",
                "matplotlib": "3.11.2",
            },
            python="3.11.9",
            platform="Linux-6.8-x86_64",
            seed=20251120,
            started="2025-11-20T09:14:03Z",
            finished="2025-11-20T09:16:47Z",
            duration_seconds=164.2,
            command="compliance-mia run policies/claims-triage.yaml --out reports/2025-11",
            target_queries=31_184,
        ),
    )


SECTION_TITLES = [
    "1. Executive summary",
    "2. Scope and system description",
    "3. Threat model",
    "4. Method",
    "5. Results",
    "6. Risk evaluation",
    "7. Controls and measured effect",
    "8. Action plan",
    "9. Change since the last assessment",
    "10. Sign-off and re-assessment",
    "Annex A. Evidence manifest",
    "Annex B. Glossary",
    "Annex C. Limitations of the method",
    "Annex D. How to reproduce",
    "Annex E. References and their verification",
]


@pytest.fixture(scope="session")
def section_titles() -> list[str]:
    """Every top-level section of the report for the shared fixture (which has a change section)."""
    return list(SECTION_TITLES)


@pytest.fixture(scope="session")
def assessment() -> Assessment:
    """The shared, realistic Assessment (draft: no sign-off decision)."""
    return build_assessment()


@pytest.fixture(scope="session")
def final_assessment(assessment: Assessment) -> Assessment:
    """The same assessment, signed off."""
    signoff = assessment.signoff.model_copy(
        update={
            "decision": "conditional",
            "date": "2025-11-25",
            "status": "final",
            "dpo_opinion": "Acceptable once outputs are limited to labels.",
        }
    )
    return assessment.model_copy(update={"signoff": signoff})


@pytest.fixture(scope="session")
def rendered_dir(tmp_path_factory: pytest.TempPathFactory, assessment: Assessment) -> Path:
    """Every format rendered once for the whole session (the PDF is the slow one)."""
    from compliance_mia.report import render_all

    out = tmp_path_factory.mktemp("rendered")
    render_all(assessment, out)
    return out


@pytest.fixture(scope="session")
def pdf_pages(rendered_dir: Path) -> list[str]:
    """Text of every page of the session's report.pdf, whitespace folded to single spaces."""
    from pypdf import PdfReader

    reader = PdfReader(rendered_dir / "report.pdf")
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]
