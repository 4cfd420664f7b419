"""The facts every judgement reads: one vocabulary for risk rules, findings, controls and what-if."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

from compliance_mia.assessment import Headline, Interval, OperatingPoint
from compliance_mia.exposure import Exposure
from compliance_mia.policy.schema import Access, DataCategory, OutputKind

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
}


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

    @classmethod
    def from_policy(
        cls,
        policy: Any,
        headline: Headline | None,
        label_only_headline: Headline | None = None,
        *,
        exposure: Any | None = None,
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
        )


def _point(head: Headline | None, fpr: float) -> OperatingPoint | None:
    if head is None:
        return None
    for op in head.tpr_at_fpr:
        if math.isclose(op.fpr, fpr, rel_tol=1e-6, abs_tol=1e-12):
            return op
    return None


def _pct(x: float | None) -> str:
    if x is None:
        return "n/a"
    value = 100.0 * x
    if value == 0 or abs(value) >= 1:
        return f"{value:.1f}%"
    return f"{value:.2f}%"


def _num(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _conf(interval: Interval) -> str:
    return f"{round(100 * interval.confidence):d}% CI"


def _interval_text(interval: Interval | None, fmt: str) -> str:
    if interval is None or interval.estimate is None:
        return "not reported"
    show = _pct if fmt == "pct" else _num
    if interval.lower is None or interval.upper is None:
        return show(interval.estimate)
    lo, hi = show(interval.lower), show(interval.upper)
    if fmt == "pct":
        lo = lo.rstrip("%")
    return f"{show(interval.estimate)} ({_conf(interval)} {lo}–{hi})"


def _tpr_values(prefix: str, op: OperatingPoint | None, raw: dict[str, Any], shown: dict[str, str]) -> None:
    if op is None:
        raw.update(
            {
                prefix: None,
                f"{prefix}_lower": None,
                f"{prefix}_upper": None,
                f"{prefix}_measurable": False,
            }
        )
        shown[f"{prefix}_ci"] = "not reported"
        return
    usable = op.measurable and op.tpr.estimate is not None
    raw[prefix] = op.tpr.estimate if usable else None
    raw[f"{prefix}_lower"] = op.tpr.lower if usable else None
    raw[f"{prefix}_upper"] = op.tpr.upper if usable else None
    raw[f"{prefix}_measurable"] = bool(op.measurable)
    if usable:
        shown[f"{prefix}_ci"] = _interval_text(op.tpr, "pct")
    else:
        need = f" (needs ≥ {op.non_members_needed:,} non-members)" if op.non_members_needed else ""
        shown[f"{prefix}_ci"] = f"not measurable at this sample size{need}"


def _describe_exposure(inputs: RiskInputs) -> str:
    exposure = Exposure(outputs=inputs.outputs, top_k=inputs.top_k, rounding=inputs.rounding)
    return f"{inputs.access} access to {exposure.describe()}"


def fact_values(inputs: RiskInputs) -> tuple[dict[str, Any], dict[str, str]]:
    """The value of every fact for ``inputs``, and how each is shown in a reason.

    Returns ``(raw, shown)``: ``raw`` holds plain JSON values (None when a
    figure is unknown or not measurable); ``shown`` holds the phrase quoted
    in reasons, e.g. ``"4.2% (95% CI 3.1–5.6%)"``.
    """
    scores = inputs.outputs in ("probabilities", "logits", "top_k", "loss")
    raw: dict[str, Any] = {
        "categories": sorted(set(inputs.categories)),
        "data_subjects": int(inputs.data_subjects),
        "membership_reveals_condition": bool(inputs.membership_reveals_condition),
        "outputs": inputs.outputs,
        "access": inputs.access,
        "rounding": inputs.rounding,
        "top_k": inputs.top_k,
        "query_limited": bool(inputs.query_limited),
        "monitored": bool(inputs.monitored),
        "scores_exposed": scores,
        "fine_scores_exposed": scores and (inputs.rounding is None or inputs.rounding >= 2),
        "label_only_exposure": inputs.outputs == "label",
    }
    shown: dict[str, str] = {"exposure_text": _describe_exposure(inputs)}
    head = inputs.headline
    raw["measured"] = head is not None
    raw["strongest_attack"] = head.strongest_attack if head is not None else None
    raw["auc"] = head.auc.estimate if head is not None else None
    raw["auc_lower"] = head.auc.lower if head is not None else None
    raw["auc_upper"] = head.auc.upper if head is not None else None
    shown["auc_ci"] = _interval_text(head.auc if head is not None else None, "num")
    for prefix, fpr in (("tpr_0_1pct", 0.001), ("tpr_1pct", 0.01), ("tpr_10pct", 0.1)):
        _tpr_values(prefix, _point(head, fpr), raw, shown)
    eps = head.epsilon.epsilon_lower if head is not None and head.epsilon is not None else None
    raw["epsilon_lower"] = eps

    lab = inputs.label_only_headline
    raw["label_only_measured"] = lab is not None
    raw["label_only_attack"] = lab.strongest_attack if lab is not None else None
    raw["label_only_auc"] = lab.auc.estimate if lab is not None else None
    raw["label_only_auc_lower"] = lab.auc.lower if lab is not None else None
    shown["label_only_auc_ci"] = _interval_text(lab.auc if lab is not None else None, "num")
    _tpr_values("label_only_tpr_1pct", _point(lab, 0.01), raw, shown)

    for name, spec in FACTS.items():
        if spec.kind == "display":
            continue
        value = raw.get(name)
        if name in shown:
            continue
        shown[name] = _show(spec, value)
    if eps is None:
        shown["epsilon_lower"] = "none shown"
    return raw, shown


def _show(spec: FactSpec, value: Any) -> str:
    if value is None:
        return "not measured" if spec.kind in _NUMERIC else "none"
    if spec.kind == "bool":
        return "yes" if value else "no"
    if spec.kind == "proportion":
        return _pct(float(value))
    if spec.kind == "score":
        return _num(float(value))
    if spec.kind == "number":
        return _num(float(value))
    if spec.kind == "count":
        return f"{int(value):,}"
    if spec.kind == "categories":
        return ", ".join(str(v).replace("_", " ") for v in value) or "none"
    return str(value)
