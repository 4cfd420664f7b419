"""The facts every judgement reads: one vocabulary for risk rules, findings, controls and what-if.

A judgement ("scores are exposed", "leakage is demonstrated", "TPR at 1% FPR
is 14.1%") is computed here once and read by every judge: the risk matrix's
rules, the findings and their grades, the controls' situations and the
what-if re-rating. Two judges can therefore never disagree on what a fact
means. Thresholds are not facts: they live in ``policies/risk_matrix.yaml``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from compliance_mia.assessment import (
    AttackOutcome,
    ExposureSummary,
    Headline,
    Interval,
    OperatingPoint,
    PrivacyAudit,
)
from compliance_mia.exposure import Exposure
from compliance_mia.figures import interval_score, operating_point, pct, point_at
from compliance_mia.policy.schema import TEXT_OUTPUTS, Access, DataCategory, OutputKind

log = logging.getLogger(__name__)

_NUMERIC: frozenset[str] = frozenset({"number", "proportion", "score", "count"})

FactKind = Literal["bool", "number", "proportion", "score", "count", "text", "categories", "display"]


# ===================================================================== facts
@dataclass(frozen=True)
class FactSpec:
    """A named fact the matrix may test or quote.

    ``kind`` fixes which operators apply and how the value is shown;
    ``choices`` lists the accepted values of a text or list fact; ``display``
    facts are ready-made phrases for reasons and cannot be tested.
    """

    kind: FactKind
    label: str
    choices: tuple[str, ...] = ()


def _tpr_facts(prefix: str, level: str, who: str) -> dict[str, FactSpec]:
    name = f"{who}TPR at {level} FPR"
    return {
        f"{prefix}": FactSpec("proportion", f"{name} (point estimate)"),
        f"{prefix}_lower": FactSpec("proportion", f"{name}, lower bound"),
        f"{prefix}_upper": FactSpec("proportion", f"{name}, upper bound"),
        f"{prefix}_measurable": FactSpec("bool", f"{name} measurable at this sample size"),
        f"{prefix}_ci": FactSpec("display", f"{name} with its interval"),
    }


FACTS: dict[str, FactSpec] = {
    # data
    "categories": FactSpec("categories", "data categories", tuple(get_args(DataCategory))),
    "data_subjects": FactSpec("count", "number of data subjects"),
    "membership_reveals_condition": FactSpec("bool", "membership itself reveals a condition"),
    # exposure and access
    "outputs": FactSpec("text", "exposed outputs", tuple(get_args(OutputKind))),
    "access": FactSpec("text", "who can query", tuple(get_args(Access))),
    "rounding": FactSpec("count", "decimals of returned scores"),
    "top_k": FactSpec("count", "classes returned (top-k)"),
    "query_limited": FactSpec("bool", "callers are rate limited"),
    "monitored": FactSpec("bool", "queries are logged and reviewed"),
    "scores_exposed": FactSpec("bool", "the model returns scores (probabilities, logits, top-k or loss)"),
    "fine_scores_exposed": FactSpec("bool", "the model returns scores with at least 2 decimals"),
    "label_only_exposure": FactSpec("bool", "the model returns the predicted label only"),
    "exposure_text": FactSpec("display", "what a caller gets back"),
    "text_model": FactSpec("bool", "the model is a language model (model.task: text-generation)"),
    "logprobs_exposed": FactSpec("bool", "the language model returns token log-probabilities"),
    # the blind baseline (language models): can the texts alone tell members from non-members?
    "blind_measured": FactSpec("bool", "the blind baseline was measured"),
    "distribution_shift": FactSpec(
        "bool", "a model-blind classifier tells member from non-member texts (the sets differ in distribution)"
    ),
    "blind_auc": FactSpec("score", "blind baseline AUC (point estimate)"),
    "blind_auc_lower": FactSpec("score", "blind baseline AUC, lower bound"),
    "blind_auc_ci": FactSpec("display", "blind baseline AUC with its interval"),
    # the strongest attack (headline)
    "measured": FactSpec("bool", "at least one attack was measured"),
    "strongest_attack": FactSpec("text", "strongest attack"),
    "auc": FactSpec("score", "AUC (point estimate)"),
    "auc_lower": FactSpec("score", "AUC, lower bound"),
    "auc_upper": FactSpec("score", "AUC, upper bound"),
    "auc_ci": FactSpec("display", "AUC with its interval"),
    **_tpr_facts("tpr_0_1pct", "0.1%", ""),
    **_tpr_facts("tpr_1pct", "1%", ""),
    **_tpr_facts("tpr_10pct", "10%", ""),
    "epsilon_lower": FactSpec("number", "empirical ε lower bound"),
    # the strongest label-only attack
    "label_only_measured": FactSpec("bool", "a label-only attack was measured"),
    "label_only_attack": FactSpec("text", "strongest label-only attack"),
    "label_only_auc": FactSpec("score", "label-only AUC (point estimate)"),
    "label_only_auc_lower": FactSpec("score", "label-only AUC, lower bound"),
    "label_only_auc_ci": FactSpec("display", "label-only AUC with its interval"),
    **_tpr_facts("label_only_tpr_1pct", "1%", "label-only "),
    # what the measured attacks showed, and how the exposure reads (configuration findings)
    "any_leakage": FactSpec("bool", "an attack demonstrably beat guessing (corrected intervals)"),
    "exposure_description": FactSpec("display", "what a caller receives, in words"),
    "rounding_text": FactSpec("display", "how returned scores are rounded, in words"),
    # the one-run privacy audit of the training pipeline (configuration findings)
    "privacy_audit_run": FactSpec("bool", "the training pipeline's DP claim was audited in one run"),
    "privacy_audit_contradicts_claim": FactSpec("bool", "the audit's ε lower bound exceeds the claimed ε"),
    "privacy_audit_epsilon_lower": FactSpec("number", "ε lower bound of the one-run privacy audit"),
    "claimed_epsilon": FactSpec("number", "ε the team claims for its training"),
    # the figures of the one attack a finding quotes (finding grades)
    "low_fpr_lift_lower": FactSpec(
        "number", "lower bound of TPR ÷ FPR at the measurable false-positive rates up to 1%"
    ),
}

#: Scores with at least this many decimals are "fine-grained" (the definition of
#: fine_scores_exposed, not a threshold of the rating).
FINE_SCORE_DECIMALS = 2
#: Outputs that carry a score an attack can read (loss included: p(true) = exp(−loss); a language
#: model's token log-probabilities are its scores of the text, unrounded).
SCORE_OUTPUTS = frozenset({"probabilities", "logits", "top_k", "loss", "top_k_logprobs", "token_logprobs"})
#: Outputs that show no score at all: a classifier's label, a language model's generated text.
#: Attacks that work from these alone are "label-only-like": hiding scores cannot stop them.
LABEL_ONLY_OUTPUTS = frozenset({"label", "generated_text"})
#: The false-positive rates up to which a TPR counts as "low-FPR" evidence.
LOW_FPR = 0.01
#: Signals an attack may read and still be "label-only" (output masking cannot stop it).
LABEL_ONLY_SIGNALS = frozenset({"label", "arbitrary_queries"})


# ========================================================== exposure facts
def scores_exposed(outputs: str) -> bool:
    """Whether the deployment returns a score an attack can read."""
    return outputs in SCORE_OUTPUTS


def fine_scores_exposed(outputs: str, rounding: int | None) -> bool:
    """Whether the returned scores are fine-grained (unrounded, or at least two decimals)."""
    return scores_exposed(outputs) and (rounding is None or rounding >= FINE_SCORE_DECIMALS)


def query_limited(query_limit: Mapping[str, Any] | None) -> bool:
    """Whether the deployment declares any per-caller query limit."""
    return query_limit is not None and any(v is not None for v in query_limit.values())


def exposure_facts(
    *,
    outputs: str,
    rounding: int | None,
    top_k: int | None,
    access: str,
    query_limit: Mapping[str, Any] | None,
    monitored: bool,
) -> dict[str, Any]:
    """The exposure and access facts, from a policy's exposure or an Assessment's summary alike."""
    return {
        "outputs": outputs,
        "access": access,
        "rounding": rounding,
        "top_k": top_k,
        "query_limited": query_limited(query_limit),
        "monitored": bool(monitored),
        "scores_exposed": scores_exposed(outputs),
        "fine_scores_exposed": fine_scores_exposed(outputs, rounding),
        "label_only_exposure": outputs in LABEL_ONLY_OUTPUTS,
        "text_model": outputs in TEXT_OUTPUTS,
        "logprobs_exposed": outputs in ("top_k_logprobs", "token_logprobs"),
    }


def privacy_audit_facts(audit: PrivacyAudit | None) -> dict[str, Any]:
    """The one-run privacy audit's facts (all unset when the policy asked for none)."""
    if audit is None:
        return {
            "privacy_audit_run": False,
            "privacy_audit_contradicts_claim": False,
            "privacy_audit_epsilon_lower": None,
            "claimed_epsilon": None,
        }
    return {
        "privacy_audit_run": True,
        "privacy_audit_contradicts_claim": audit.verdict == "claim contradicted",
        "privacy_audit_epsilon_lower": audit.epsilon_lower,
        "claimed_epsilon": audit.claimed_epsilon,
    }


def text_exposure_description(outputs: str, top_k: int | None) -> str:
    """What a caller of a language model receives, in words (one wording for report, rules and what-if)."""
    if outputs == "top_k_logprobs":
        return (
            f"each token's log-probability and the log-probabilities of the {top_k} most likely tokens at each position"
        )
    if outputs == "token_logprobs":
        return "each token's log-probability (no alternatives)"
    return "generated text only (no log-probabilities)"


def distribution_shift(blind_auc: Interval | None) -> bool:
    """Whether the blind baseline tells the sets apart: its AUC interval lies above chance (0.5).

    The blind baseline is one test, run before any attack, so its single
    interval is the corrected one. When this holds, member and non-member
    texts differ in distribution and no attack figure is evidence of
    memorisation (Das et al. 2024; Duan et al. 2024).
    """
    return blind_auc is not None and blind_auc.lower is not None and blind_auc.lower > 0.5


def summary_facts(exposure: ExposureSummary) -> dict[str, Any]:
    """:func:`exposure_facts` of an Assessment's exposure summary (findings and control situations)."""
    return exposure_facts(
        outputs=exposure.outputs,
        rounding=exposure.rounding,
        top_k=exposure.top_k,
        access=exposure.access,
        query_limit=exposure.query_limit,
        monitored=exposure.monitored,
    )


# ========================================================== leakage facts
def demonstrated(auc: Interval | None, points: Sequence[OperatingPoint]) -> bool:
    """True when a lower confidence bound beats random guessing (AUC > 0.5 or TPR > FPR).

    "Demonstrated" has one meaning throughout: a point estimate alone never
    demonstrates leakage, and a figure not measurable at this sample size is
    not used.
    """
    if auc is not None and auc.lower is not None and auc.lower > 0.5:
        return True
    return any(op.measurable and op.tpr.lower is not None and op.tpr.lower > op.fpr for op in points)


def is_label_only(requires: Collection[str]) -> bool:
    """Whether an attack needing these signals reads nothing but predicted labels."""
    return set(requires) <= LABEL_ONLY_SIGNALS


@dataclass(frozen=True)
class LeakageProfile:
    """Which kinds of leakage the assessment demonstrates, on one statistical basis.

    Every flag rests on intervals corrected for all the attacks run (the
    headline's simultaneous intervals), so a model whose corrected headline is
    consistent with guessing never carries a finding or a control situation
    saying that attacks succeed. Per-attack intervals only name attacks.
    """

    ran: bool = False  #: at least one attack was measured
    leaked: bool = False  #: the strongest attack's corrected interval beats guessing
    confidence: bool = False  #: ... and the strongest attack reads scores
    label_only: bool = False  #: the strongest label-only attack's corrected interval beats guessing
    label_only_ran: bool = False
    score_attacks: tuple[str, ...] = ()  #: score-reading attacks whose own interval beats guessing
    label_only_attack: str | None = None  #: the strongest label-only attack, when it leaked
    label_only_title: str | None = None  #: its title, for sentences
    label_only_auc: Interval | None = None  #: its corrected AUC

    @property
    def any(self) -> bool:
        return self.leaked


def leakage_profile(
    outcomes: Sequence[AttackOutcome],
    *,
    headline: Headline | None,
    label_only_headline: Headline | None,
    label_only: Collection[str],
) -> LeakageProfile:
    """What the corrected headlines demonstrate.

    ``label_only`` names the attacks that read only labels (the runner knows
    them from the registry; see :func:`is_label_only`);
    ``label_only_headline`` is the strongest of them corrected over every
    attack run.
    """
    leaked = headline is not None and demonstrated(headline.auc, headline.tpr_at_fpr)
    lab = label_only_headline
    label_leaked = lab is not None and demonstrated(lab.auc, lab.tpr_at_fpr)
    strongest_reads_scores = headline is not None and headline.strongest_attack not in label_only
    return LeakageProfile(
        ran=bool(outcomes),
        leaked=leaked,
        confidence=leaked and strongest_reads_scores,
        label_only=label_leaked,
        label_only_ran=any(o.name in label_only for o in outcomes),
        score_attacks=tuple(
            o.name
            for o in outcomes
            if o.name not in label_only and demonstrated(o.metrics.auc, o.metrics.operating_points)
        ),
        label_only_attack=lab.strongest_attack if label_leaked and lab is not None else None,
        label_only_title=next(
            (o.title for o in outcomes if label_leaked and lab is not None and o.name == lab.strongest_attack), None
        ),
        label_only_auc=lab.auc if label_leaked and lab is not None else None,
    )


# ================================================================ the inputs
@dataclass(frozen=True)
class RiskInputs:
    """Everything the rating depends on, and nothing else.

    Keeping the inputs explicit (rather than passing the policy) lets the
    what-if analysis re-rate the same system under a stricter exposure by
    changing only the exposure fields and the measured headline.
    """

    categories: tuple[str, ...]
    data_subjects: int
    membership_reveals_condition: bool
    outputs: str
    access: str
    rounding: int | None
    top_k: int | None
    query_limited: bool
    monitored: bool
    headline: Headline | None
    label_only_headline: Headline | None = None
    blind_auc: Interval | None = None  #: language models: the blind baseline's AUC

    @classmethod
    def from_policy(
        cls,
        policy: Any,
        headline: Headline | None,
        label_only_headline: Headline | None = None,
        *,
        exposure: Any | None = None,
        blind_auc: Interval | None = None,
    ) -> RiskInputs:
        """Inputs from a :class:`~compliance_mia.policy.schema.Policy`.

        ``exposure`` (an :class:`~compliance_mia.exposure.Exposure`) overrides
        the policy's outputs, top-k and rounding, for what-if re-rating.
        """
        spec = policy.exposure
        limits = spec.query_limit
        return cls(
            categories=tuple(policy.data.categories),
            data_subjects=int(policy.data.data_subjects),
            membership_reveals_condition=bool(policy.data.membership_reveals_condition),
            outputs=exposure.outputs if exposure is not None else spec.outputs,
            access=spec.access,
            rounding=exposure.rounding if exposure is not None else spec.rounding,
            top_k=exposure.top_k if exposure is not None else spec.top_k,
            query_limited=limits is not None and any(v is not None for v in limits.model_dump().values()),
            monitored=bool(spec.monitored),
            headline=headline,
            label_only_headline=label_only_headline,
            blind_auc=blind_auc,
        )


# ================================================================ the values
def _tpr_values(prefix: str, op: OperatingPoint | None, raw: dict[str, Any], shown: dict[str, str]) -> None:
    usable = op is not None and op.measurable and op.tpr.estimate is not None
    raw[prefix] = op.tpr.estimate if usable else None
    raw[f"{prefix}_lower"] = op.tpr.lower if usable else None
    raw[f"{prefix}_upper"] = op.tpr.upper if usable else None
    raw[f"{prefix}_measurable"] = bool(op is not None and op.measurable)
    if op is None:
        shown[f"{prefix}_ci"] = "not reported"
    else:
        shown[f"{prefix}_ci"] = operating_point(op, show_n=False)


def _auc_text(interval: Interval | None) -> str:
    if interval is None or interval.estimate is None:
        return "not reported"
    return interval_score(interval, places=2)


def figure_facts(auc: Interval | None, points: Sequence[OperatingPoint], *, prefix: str = "") -> dict[str, Any]:
    """The facts of one attack's figures (AUC and TPR at each reported FPR), as ``raw`` values.

    Used for the headline (``prefix=""``), the strongest label-only attack
    (``prefix="label_only_"``) and the attack a finding quotes.
    """
    raw: dict[str, Any] = {
        f"{prefix}auc": auc.estimate if auc is not None else None,
        f"{prefix}auc_lower": auc.lower if auc is not None else None,
        f"{prefix}auc_upper": auc.upper if auc is not None else None,
    }
    shown: dict[str, str] = {}
    for name, fpr in (("tpr_0_1pct", 0.001), ("tpr_1pct", 0.01), ("tpr_10pct", 0.1)):
        _tpr_values(f"{prefix}{name}", point_at(points, fpr), raw, shown)
    lifts = [
        op.tpr.lower / op.fpr
        for op in points
        if op.measurable and op.tpr.lower is not None and op.fpr <= LOW_FPR + 1e-12
    ]
    raw[f"{prefix}low_fpr_lift_lower"] = max(lifts) if lifts else None
    return raw


def _describe_exposure(inputs: RiskInputs) -> str:
    if inputs.outputs in TEXT_OUTPUTS:
        return f"{inputs.access} access to {text_exposure_description(inputs.outputs, inputs.top_k)}"
    exposure = Exposure(outputs=inputs.outputs, top_k=inputs.top_k, rounding=inputs.rounding)
    return f"{inputs.access} access to {exposure.describe()}"


def fact_values(inputs: RiskInputs) -> tuple[dict[str, Any], dict[str, str]]:
    """The value of every fact for ``inputs``, and how each is shown in a reason.

    Returns ``(raw, shown)``: ``raw`` holds plain JSON values (None when a
    figure is unknown or not measurable); ``shown`` holds the phrase quoted
    in reasons, e.g. ``"4.2% (95% CI 3.1–5.6%)"``.
    """
    raw: dict[str, Any] = {
        "categories": sorted(set(inputs.categories)),
        "data_subjects": int(inputs.data_subjects),
        "membership_reveals_condition": bool(inputs.membership_reveals_condition),
        **exposure_facts(
            outputs=inputs.outputs,
            rounding=inputs.rounding,
            top_k=inputs.top_k,
            access=inputs.access,
            query_limit={"any": 1} if inputs.query_limited else None,
            monitored=inputs.monitored,
        ),
    }
    shown: dict[str, str] = {"exposure_text": _describe_exposure(inputs)}
    blind = inputs.blind_auc
    raw["blind_measured"] = blind is not None
    raw["distribution_shift"] = distribution_shift(blind)
    raw["blind_auc"] = blind.estimate if blind is not None else None
    raw["blind_auc_lower"] = blind.lower if blind is not None else None
    shown["blind_auc_ci"] = _auc_text(blind)
    head = inputs.headline
    raw["measured"] = head is not None
    raw["strongest_attack"] = head.strongest_attack if head is not None else None
    shown["auc_ci"] = _auc_text(head.auc if head is not None else None)
    figures = figure_facts(head.auc if head is not None else None, head.tpr_at_fpr if head is not None else [])
    raw.update({k: v for k, v in figures.items() if k != "low_fpr_lift_lower"})
    for name, fpr in (("tpr_0_1pct", 0.001), ("tpr_1pct", 0.01), ("tpr_10pct", 0.1)):
        _tpr_values(name, point_at(head.tpr_at_fpr, fpr) if head is not None else None, {}, shown)
    eps = head.epsilon.epsilon_lower if head is not None and head.epsilon is not None else None
    raw["epsilon_lower"] = eps

    lab = inputs.label_only_headline
    raw["label_only_measured"] = lab is not None
    raw["label_only_attack"] = lab.strongest_attack if lab is not None else None
    raw["label_only_auc"] = lab.auc.estimate if lab is not None else None
    raw["label_only_auc_lower"] = lab.auc.lower if lab is not None else None
    shown["label_only_auc_ci"] = _auc_text(lab.auc if lab is not None else None)
    _tpr_values("label_only_tpr_1pct", point_at(lab.tpr_at_fpr, 0.01) if lab is not None else None, raw, shown)
    raw["low_fpr_lift_lower"] = figures["low_fpr_lift_lower"]

    for name, spec in FACTS.items():
        if spec.kind == "display" or name in shown:
            continue
        shown[name] = _show(spec, raw.get(name))
    if eps is None:
        shown["epsilon_lower"] = "none shown"
    return raw, shown


def _show(spec: FactSpec, value: Any) -> str:
    if value is None:
        return "not measured" if spec.kind in _NUMERIC else "none"
    if spec.kind == "bool":
        return "yes" if value else "no"
    if spec.kind == "proportion":
        return pct(float(value))
    if spec.kind in ("score", "number"):
        return f"{float(value):.2f}"
    if spec.kind == "count":
        return f"{int(value):,}"
    if spec.kind == "categories":
        return ", ".join(str(v).replace("_", " ") for v in value) or "none"
    return str(value)
