"""The controls catalogue, recommendation from findings, the action plan and sign-off.

The catalogue (``policies/controls.yaml``) lists measures against membership
inference with their cost, the attack families they weaken, the exposure an
output control imposes and the clauses each helps satisfy. It is data an
analyst extends without Python; it is validated on load and every error
names the file and line.

:func:`recommend` picks controls from the measured situation and ranks them:

* leakage through the scores only → output minimisation first (cheap, and
  its effect is measured by the what-if analysis);
* label-only leakage too → training-time controls first, because masking
  confidence does not stop an attacker who needs only the predicted label;
* no demonstrated leakage → governance (re-test, documentation) and access
  hygiene first.

Within those groups, a control whose measured what-if lowers the rating more
ranks higher. Each recommendation says why, with the figures, and lists the
clauses of the regulations in scope first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from compliance_mia.assessment import (
    ControlRecommendation,
    ExposureSummary,
    Headline,
    RiskRating,
    WhatIfResult,
)
from compliance_mia.controls.catalogue import SITUATIONS, Catalogue
from compliance_mia.controls.restrictions import _current_exposure, already_satisfied, restricted_exposure
from compliance_mia.risk.facts import LeakageProfile, summary_facts


def sits_text_model(exposure: ExposureSummary) -> bool:
    """Whether the assessed model is a language model (its exposure is a text exposure)."""
    return bool(summary_facts(exposure)["text_model"])


if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


# ============================================================ recommending
def _upper_half(levels: list[str], level: str) -> bool:
    return level in levels and levels.index(level) >= len(levels) / 2


def situations(*, rating: RiskRating, profile: LeakageProfile, exposure: ExposureSummary) -> dict[str, bool]:
    """Which named situations hold (the vocabulary of ``recommend_when`` / ``in_place_when``)."""
    facts = summary_facts(exposure)
    out = {
        "always": True,
        "any_leakage": profile.any,
        "confidence_leakage": profile.confidence,
        "label_only_leakage": profile.label_only,
        "no_leakage_demonstrated": profile.ran and not profile.any,
        "scores_exposed": facts["scores_exposed"],
        "fine_scores_exposed": facts["fine_scores_exposed"],
        "loss_exposed": exposure.outputs == "loss",
        "labels_only_exposed": facts["label_only_exposure"],
        "rounded": exposure.rounding is not None,
        "public_access": exposure.access == "public",
        "authenticated_access": exposure.access == "authenticated",
        "internal_access": exposure.access == "internal",
        "rate_limited": facts["query_limited"],
        "not_rate_limited": not facts["query_limited"],
        "monitored": facts["monitored"],
        "not_monitored": not facts["monitored"],
        "high_severity": _upper_half(rating.levels, rating.severity),
        "high_risk": _upper_half(rating.levels, rating.level),
        "above_appetite": rating.within_appetite is False,
    }
    assert set(out) == set(SITUATIONS)
    return out


def _matching(entries: list[str | list[str]], sits: dict[str, bool]) -> list[list[str]]:
    """Entries (each an all-of group) that hold."""
    hits = []
    for entry in entries:
        group = [entry] if isinstance(entry, str) else list(entry)
        if all(sits[name] for name in group):
            hits.append(group)
    return hits


def _best_what_if(control_id: str, what_if: Sequence[WhatIfResult], levels: list[str]) -> WhatIfResult | None:
    mine = [w for w in what_if if w.control_id == control_id]
    if not mine:
        return None

    def key(w: WhatIfResult) -> tuple[int, float]:
        level = levels.index(w.residual.level) if w.residual is not None and w.residual.level in levels else len(levels)
        auc = w.auc.estimate if w.auc is not None and w.auc.estimate is not None else 1.0
        return level, auc

    return min(mine, key=key)


def _auc_text(w: WhatIfResult) -> str:
    if w.auc is None or w.auc.estimate is None:
        return "no attack could run"
    text = f"AUC {w.auc.estimate:.2f}"
    if w.tpr_at_1pct_fpr is not None and w.tpr_at_1pct_fpr.estimate is not None:
        text += f", TPR at 1% FPR {100 * w.tpr_at_1pct_fpr.estimate:.1f}%"
    return text


def _measured_text(w: WhatIfResult, rating: RiskRating) -> str:
    strongest = f" (strongest attack: {w.strongest_attack})" if w.strongest_attack else ""
    text = f"Measured: with {w.label}, attacks reach {_auc_text(w)}{strongest}"
    if w.residual is not None:
        if w.residual.level == rating.level:
            text += f"; the rating stays {rating.level}"
        else:
            text += f"; the rating would be {w.residual.level} (now {rating.level})"
    if w.kind == "training" and w.utility_before is not None and w.utility_after is not None:
        before, after = 100 * w.utility_before, 100 * w.utility_after
        text += f"; accuracy on unseen records {before:.1f}% → {after:.1f}%"
    return text + "."


_GROUP_ORDER = {
    "label_only": {"training": 0, "data": 1, "output": 2, "access": 2, "governance": 3},
    "confidence": {"output": 0, "training": 1, "access": 2, "data": 2, "governance": 3},
    "none": {"governance": 0, "access": 1, "data": 1, "output": 2, "training": 2},
}


def recommend(
    *,
    catalogue: Catalogue,
    rating: RiskRating,
    profile: LeakageProfile,
    headline: Headline | None,
    exposure: ExposureSummary,
    regulations: list[str],
    what_if: Sequence[WhatIfResult] = (),
) -> list[ControlRecommendation]:
    """Controls to recommend, ranked (priority 1 = do first), each with why and its clauses.

    Controls already in place (e.g. access control when access is
    authenticated) are listed after the recommendations with
    ``in_place=True``, as the existing measures a DPIA must describe.
    """
    sits = situations(rating=rating, profile=profile, exposure=exposure)
    phrases = catalogue.spec.situations
    mode = "label_only" if profile.label_only else ("confidence" if profile.any else "none")
    current = _current_exposure(exposure)
    levels = list(rating.levels)
    label_note = ""
    if profile.label_only and profile.label_only_auc is not None and profile.label_only_auc.estimate is not None:
        label_note = (
            f" Confidence masking does not stop label-only attacks: {profile.label_only_title} still reaches "
            f"AUC {profile.label_only_auc.estimate:.2f} with labels alone."
        )

    chosen: list[tuple[tuple[Any, ...], ControlRecommendation]] = []
    existing: list[ControlRecommendation] = []
    task = "text-generation" if sits_text_model(exposure) else "classification"
    for index, control in enumerate(catalogue.controls):
        if task not in control.tasks:
            continue
        in_place_hits = _matching(list(control.in_place_when), sits)
        in_place_text = "; ".join(" and ".join(phrases[s] for s in group) for group in in_place_hits)
        if control.category == "output":
            if any(already_satisfied(current, change) for change in control.exposure):
                in_place_text = in_place_text or f"the deployment returns {exposure.description}"
            elif not any(
                restricted_exposure(current, change, noise_scale=1.0, noise_seed=0) is not None
                for change in control.exposure
            ):
                continue  # does not apply to this exposure (e.g. rounding a loss)
        mappings = catalogue.mappings(control, regulations)
        common = dict(
            control_id=control.id,
            title=control.title,
            category=control.category,
            description=control.description.strip(),
            mitigates=list(control.mitigates),
            cost=f"{control.cost}; utility: {control.utility_impact}",
            mappings=mappings,
        )
        if in_place_text:
            why = f"Already in place: {in_place_text}. Keep it, and re-test when it changes."
            existing.append(ControlRecommendation(priority=0, why=why, in_place=True, **common))
            continue
        hits = _matching(list(control.recommend_when), sits)
        if not hits:
            continue
        best = _best_what_if(control.id, what_if, levels)
        names = list(dict.fromkeys(name for group in hits for name in group))
        why = f"Recommended because {'; '.join(phrases[n] for n in names)}."
        if control.rationale:
            why += " " + " ".join(control.rationale.split())
        if best is not None:
            why += " " + _measured_text(best, rating)
        elif control.category == "training" and profile.any:
            why += " Not measured: name a candidate estimator for it under controls.training_recipes to measure it."
        if control.category == "output" and label_note:
            why += label_note
        level_gain = 0
        auc_gain = 0.0
        if best is not None and best.residual is not None and best.residual.level in levels and rating.level in levels:
            level_gain = levels.index(rating.level) - levels.index(best.residual.level)
            if (
                headline is not None
                and headline.auc.estimate is not None
                and best.auc is not None
                and best.auc.estimate is not None
            ):
                auc_gain = headline.auc.estimate - best.auc.estimate
        # Measured evidence first: a control measured to lower the rating outranks every
        # unmeasured one; the rest follow the situation's order (training first when
        # label-only attacks succeed, output first when only score-reading attacks do).
        tier = 0 if level_gain > 0 else 1
        key = (tier, -level_gain, _GROUP_ORDER[mode][control.category], -round(auc_gain, 6), index)
        chosen.append((key, ControlRecommendation(priority=0, why=why, what_if=best, **common)))

    chosen.sort(key=lambda kv: kv[0])
    ranked = [rec.model_copy(update={"priority": i + 1}) for i, (_, rec) in enumerate(chosen)]
    start = len(ranked) + 1
    ranked.extend(rec.model_copy(update={"priority": start + i}) for i, rec in enumerate(existing))
    return ranked
