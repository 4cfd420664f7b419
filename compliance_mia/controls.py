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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from compliance_mia.assessment import (
    ActionPlanItem,
    AttackOutcome,
    ControlMapping,
    ControlRecommendation,
    ExposureSummary,
    Headline,
    RiskRating,
    SignOffInfo,
    WhatIfResult,
)
from compliance_mia.errors import CatalogueError, Problem
from compliance_mia.findings import LeakageProfile, leakage_profile
from compliance_mia.policy.schema import OutputKind, Regulation
from compliance_mia.yamlio import LocatedYaml, read_yaml, validate_checked

if TYPE_CHECKING:
    from compliance_mia.exposure import Exposure
    from compliance_mia.policy.schema import Policy

log = logging.getLogger(__name__)

__all__ = [
    "SITUATIONS",
    "Catalogue",
    "Control",
    "ExposureChange",
    "action_plan_items",
    "already_satisfied",
    "load_catalogue",
    "recommend",
    "restricted_exposure",
    "signoff_info",
    "situations",
]

ControlCategory = Literal["output", "training", "access", "data", "governance"]

#: Named situations a control's ``recommend_when`` / ``in_place_when`` may use, with
#: the phrase used in a recommendation's "why".
SITUATIONS: dict[str, str] = {
    "always": "it is good practice for every model trained on personal data",
    "any_leakage": "an attack identifies training records better than random guessing",
    "confidence_leakage": "attacks that read the model's scores succeed",
    "label_only_leakage": "attacks that see only the predicted label succeed",
    "no_leakage_demonstrated": "no attack did demonstrably better than random guessing",
    "scores_exposed": "the deployment returns scores",
    "fine_scores_exposed": "the deployment returns fine-grained scores",
    "loss_exposed": "the deployment returns the loss",
    "labels_only_exposed": "the deployment returns the predicted label only",
    "rounded": "returned scores are rounded",
    "public_access": "anyone can query the model",
    "authenticated_access": "only authenticated callers can query the model",
    "internal_access": "only internal users can query the model",
    "rate_limited": "queries are rate limited",
    "not_rate_limited": "queries are not rate limited",
    "monitored": "queries are logged and reviewed",
    "not_monitored": "queries are not monitored",
    "high_severity": "the data is sensitive (severity in the upper half of the scale)",
    "high_risk": "the risk level is in the upper half of the scale",
    "above_appetite": "the risk is above the policy's appetite",
}
Situation = Literal[
    "always", "any_leakage", "confidence_leakage", "label_only_leakage", "no_leakage_demonstrated",
    "scores_exposed", "fine_scores_exposed", "loss_exposed", "labels_only_exposed", "rounded",
    "public_access", "authenticated_access", "internal_access", "rate_limited", "not_rate_limited",
    "monitored", "not_monitored", "high_severity", "high_risk", "above_appetite",
]  # fmt: skip
assert set(get_args(Situation)) == set(SITUATIONS)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ExposureChange(_Strict):
    """The restricted exposure an output control imposes (what the what-if measures)."""

    outputs: OutputKind | None = Field(
        None, description="Outputs returned under the control, e.g. label or top_k."
    )
    top_k: int | None = Field(
        None, ge=1, description="With outputs: top_k, how many classes are returned."
    )
    rounding: int | None = Field(
        None, ge=0, le=12, description="Decimals returned scores are rounded to."
    )
    noise: bool = Field(
        False,
        description="Add Gaussian noise to returned scores (σ = controls.output_noise_scale).",
    )

    @model_validator(mode="after")
    def _meaningful(self) -> ExposureChange:
        if self.outputs is None and self.rounding is None and not self.noise:
            raise ValueError(
                "an exposure change needs at least one of outputs, rounding or noise: true"
            )
        if self.outputs == "top_k" and self.top_k is None:
            raise ValueError("outputs: top_k needs top_k (how many classes are returned)")
        if self.top_k is not None and self.outputs != "top_k":
            raise ValueError("top_k only applies with outputs: top_k")
        if self.outputs == "label" and (self.rounding is not None or self.noise):
            raise ValueError("with outputs: label there are no scores to round or perturb")
        return self

    def describe(self) -> str:
        parts = []
        if self.outputs == "label":
            parts.append("labels only")
        elif self.outputs == "top_k":
            parts.append(f"top-{self.top_k} class(es) with scores")
        elif self.outputs is not None:
            parts.append(f"{self.outputs}")
        if self.rounding is not None:
            parts.append(f"scores rounded to {self.rounding} decimal(s)")
        if self.noise:
            parts.append("Gaussian noise on scores")
        return ", ".join(parts)


class FrameworkInfo(_Strict):
    """A regulation or framework the catalogue maps to."""

    title: str = Field(min_length=1)
    inherits: Regulation | None = Field(
        None, description="Use this framework's clauses where a control names none."
    )
    note: str = ""


class Control(_Strict):
    """One measure against membership inference."""

    id: str = Field(
        pattern=r"^[a-z][a-z0-9-]*$", description="Stable id, used by the policy's action plan."
    )
    title: str = Field(min_length=1)
    category: ControlCategory
    description: str = Field(min_length=1)
    mitigates: list[str] = Field(
        description="Attack families (declared under attack_families) the control weakens."
    )
    cost: str = Field(min_length=1, description="Typical implementation cost.")
    utility_impact: str = Field(
        min_length=1, description="Typical effect on the model's usefulness."
    )
    rationale: str = ""
    recommend_when: list[Situation | list[Situation]] = Field(
        default_factory=list,
        description="Situations that make the control relevant (a list inside means all of).",
    )
    in_place_when: list[Situation | list[Situation]] = Field(
        default_factory=list, description="Situations meaning the control is already in place."
    )
    exposure: list[ExposureChange] = Field(
        default_factory=list, description="Output controls: the restricted exposure(s) to measure."
    )
    mappings: dict[Regulation, list[str]] = Field(
        min_length=1, description="Clauses per framework id."
    )

    @field_validator("exposure", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _output_has_exposure(self) -> Control:
        if self.category == "output" and not self.exposure:
            raise ValueError(
                "an output control needs 'exposure' (the restricted outputs it imposes), e.g. "
                "{outputs: label}"
            )
        if self.category != "output" and self.exposure:
            raise ValueError(f"only output controls take 'exposure'; this one is '{self.category}'")
        for framework, clauses in self.mappings.items():
            if not clauses or any(not str(c).strip() for c in clauses):
                raise ValueError(f"mappings.{framework}: list at least one non-empty clause")
        return self


class CatalogueSpec(_Strict):
    """The controls catalogue file."""

    version: str = Field(min_length=1)
    title: str = ""
    threat: str = ""
    description: str = ""
    attack_families: dict[str, str] = Field(
        min_length=1, description="Attack families controls may name."
    )
    frameworks: dict[Regulation, FrameworkInfo] = Field(min_length=1)
    controls: list[Control] = Field(min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) else value


@dataclass(frozen=True)
class Catalogue:
    """A validated controls catalogue with where it came from."""

    spec: CatalogueSpec
    source: Path

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def controls(self) -> list[Control]:
        return list(self.spec.controls)

    def ids(self) -> list[str]:
        return [c.id for c in self.spec.controls]

    def control(self, control_id: str) -> Control:
        for c in self.spec.controls:
            if c.id == control_id:
                return c
        raise KeyError(control_id)

    def framework_title(self, framework: str) -> str:
        info = self.spec.frameworks.get(framework)  # type: ignore[call-overload]
        return info.title if info is not None else framework

    def clauses(self, control: Control, framework: str) -> list[str]:
        """Clauses of ``framework`` for ``control``, following ``inherits``."""
        seen: set[str] = set()
        current: str | None = framework
        while current is not None and current not in seen:
            seen.add(current)
            found = control.mappings.get(current)  # type: ignore[call-overload]
            if found:
                return list(found)
            info = self.spec.frameworks.get(current)  # type: ignore[call-overload]
            current = info.inherits if info is not None else None
        return []

    def mappings(self, control: Control, regulations: Sequence[str]) -> list[ControlMapping]:
        """Mappings with the regulations in scope first (in the policy's order), then the rest.

        Inherited clauses (e.g. UK GDPR from GDPR) are listed only when the
        inheriting framework is in scope.
        """
        in_scope = list(dict.fromkeys(regulations))
        order = list(dict.fromkeys([*in_scope, *self.spec.frameworks, *control.mappings]))
        out: list[ControlMapping] = []
        for framework in order:
            if framework in in_scope:
                clauses = self.clauses(control, framework)
            else:  # out of scope: only what the control names itself, not inherited clauses
                clauses = list(control.mappings.get(framework, []))  # type: ignore[call-overload]
            if clauses:
                out.append(_mapping(framework, self.framework_title(framework), clauses))
        return out


def _mapping(framework: str, title: str, clauses: list[str]) -> ControlMapping:
    return ControlMapping(framework=framework, title=title, clauses=clauses)


# ===================================================================== load
def _default_catalogue_path() -> Path:
    from compliance_mia.resources import policies_dir

    return policies_dir() / "controls.yaml"


def _semantic_problems(spec: CatalogueSpec, doc: LocatedYaml) -> list[Problem]:
    problems: list[Problem] = []

    def add(message: str, *path: str | int) -> None:
        field = ""
        for part in path:
            field += f"[{part}]" if isinstance(part, int) else ("." if field else "") + str(part)
        problems.append(
            Problem(message, file=doc.file, line=doc.line_of(path), field=field or None)
        )

    seen: dict[str, int] = {}
    families = spec.attack_families
    for i, control in enumerate(spec.controls):
        if control.id in seen:
            add(
                f"control id '{control.id}' is already used by controls[{seen[control.id]}]",
                "controls",
                i,
                "id",
            )
        seen.setdefault(control.id, i)
        for j, family in enumerate(control.mitigates):
            if family not in families:
                add(
                    f"{family!r} is not a declared attack family; declare it under "
                    f"attack_families or use {', '.join(families)}",
                    "controls",
                    i,
                    "mitigates",
                    j,
                )
        for framework in control.mappings:
            if framework not in spec.frameworks:
                add(
                    f"framework '{framework}' has no entry under frameworks (give it a title "
                    "there)",
                    "controls",
                    i,
                    "mappings",
                    framework,
                )
    for name, info in spec.frameworks.items():
        if info.inherits is not None and info.inherits not in spec.frameworks:
            add(
                f"inherits '{info.inherits}', which has no entry under frameworks",
                "frameworks",
                name,
                "inherits",
            )
    return problems


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate a controls catalogue (default: the shipped ``policies/controls.yaml``).

    Raises
    ------
    CatalogueError
        Listing every problem with file, line and field: a missing field, an
        unknown regulation id (with the accepted ids), an undeclared attack
        family, a duplicate id, an output control without an exposure.
    """
    file = Path(path) if path is not None else _default_catalogue_path()
    doc = read_yaml(file, error=CatalogueError)
    spec = validate_checked(CatalogueSpec, doc, error=CatalogueError, checks=_semantic_problems)
    log.debug(
        "controls catalogue %s version %s: %d controls", file, spec.version, len(spec.controls)
    )
    return Catalogue(spec=spec, source=file)


# ================================================================ exposures
_SCORE_OUTPUTS = ("probabilities", "logits", "top_k")


def restricted_exposure(
    current: Exposure, change: ExposureChange, *, noise_scale: float, noise_seed: int
) -> Exposure | None:
    """The exposure ``change`` would impose on ``current``, or None if it is not stricter.

    Only restrictions an operator could add to the current deployment count:
    labels instead of anything richer; top-k instead of a full score vector
    (or a smaller k); coarser rounding of scores; noise on scores not yet
    perturbed.
    """
    from compliance_mia.exposure import Exposure

    outputs, top_k, rounding = current.outputs, current.top_k, current.rounding
    stricter = False
    if change.outputs == "label":
        if current.outputs == "label":
            return None
        outputs, top_k, rounding, stricter = "label", None, None, True
    elif change.outputs == "top_k":
        k = int(change.top_k or 1)
        if current.outputs in ("probabilities", "logits"):
            outputs, top_k, stricter = "top_k", k, True
        elif current.outputs == "top_k" and (current.top_k or 0) > k:
            top_k, stricter = k, True
        else:
            return None
    elif change.outputs is not None and change.outputs != current.outputs:
        return None  # widening or sideways moves are not controls
    if change.rounding is not None:
        if outputs not in _SCORE_OUTPUTS:
            return None
        if rounding is None or rounding > change.rounding:
            rounding, stricter = change.rounding, True
        elif not stricter:
            return None
    noise, seed = current.noise_scale, current.noise_seed
    if change.noise:
        if outputs not in _SCORE_OUTPUTS or current.noise_scale:
            return None
        noise, seed, stricter = noise_scale, noise_seed, True
    if not stricter:
        return None
    return Exposure(
        outputs=outputs, top_k=top_k, rounding=rounding, noise_scale=noise, noise_seed=seed
    )


def already_satisfied(current: Exposure, change: ExposureChange) -> bool:
    """Whether the current exposure is already at least as strict as ``change``."""
    if current.outputs == "label":
        return True
    if change.outputs == "label":
        return False
    if change.outputs == "top_k" and not (
        current.outputs == "top_k" and (current.top_k or 0) <= (change.top_k or 1)
    ):
        return False
    if change.rounding is not None and not (
        current.rounding is not None and current.rounding <= change.rounding
    ):
        return False
    if change.noise and not current.noise_scale:
        return False
    return True


def _current_exposure(summary: ExposureSummary) -> Exposure:
    from compliance_mia.exposure import Exposure

    return Exposure(outputs=summary.outputs, top_k=summary.top_k, rounding=summary.rounding)


# ============================================================ recommending
def _upper_half(levels: list[str], level: str) -> bool:
    return level in levels and levels.index(level) >= len(levels) / 2


def situations(
    *, rating: RiskRating, profile: LeakageProfile, exposure: ExposureSummary
) -> dict[str, bool]:
    """Which named situations hold (the vocabulary of ``recommend_when`` / ``in_place_when``)."""
    scores = exposure.outputs in ("probabilities", "logits", "top_k", "loss")
    limited = exposure.query_limit is not None and any(
        v is not None for v in exposure.query_limit.values()
    )
    out = {
        "always": True,
        "any_leakage": profile.any,
        "confidence_leakage": bool(profile.confidence),
        "label_only_leakage": bool(profile.label_only),
        "no_leakage_demonstrated": profile.ran and not profile.any,
        "scores_exposed": scores,
        "fine_scores_exposed": scores and (exposure.rounding is None or exposure.rounding >= 2),
        "loss_exposed": exposure.outputs == "loss",
        "labels_only_exposed": exposure.outputs == "label",
        "rounded": exposure.rounding is not None,
        "public_access": exposure.access == "public",
        "authenticated_access": exposure.access == "authenticated",
        "internal_access": exposure.access == "internal",
        "rate_limited": limited,
        "not_rate_limited": not limited,
        "monitored": exposure.monitored,
        "not_monitored": not exposure.monitored,
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


def _best_what_if(
    control_id: str, what_if: Sequence[WhatIfResult], levels: list[str]
) -> WhatIfResult | None:
    mine = [w for w in what_if if w.control_id == control_id]
    if not mine:
        return None

    def key(w: WhatIfResult) -> tuple[int, float]:
        level = (
            levels.index(w.residual.level)
            if w.residual is not None and w.residual.level in levels
            else len(levels)
        )
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
    outcomes: list[AttackOutcome],
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
    profile = leakage_profile(outcomes)
    sits = situations(rating=rating, profile=profile, exposure=exposure)
    mode = "label_only" if profile.label_only else ("confidence" if profile.any else "none")
    current = _current_exposure(exposure)
    levels = list(rating.levels)
    label_note = ""
    if profile.label_only:
        best = max(profile.label_only, key=lambda o: o.metrics.auc.estimate or 0.0)
        label_note = (
            f" Confidence masking does not stop label-only attacks: {best.title} still reaches "
            f"AUC {best.metrics.auc.estimate:.2f} with labels alone."
            if best.metrics.auc.estimate is not None
            else ""
        )

    chosen: list[tuple[tuple[Any, ...], ControlRecommendation]] = []
    existing: list[ControlRecommendation] = []
    for index, control in enumerate(catalogue.controls):
        in_place_hits = _matching(list(control.in_place_when), sits)
        in_place_text = "; ".join(
            " and ".join(SITUATIONS[s] for s in group) for group in in_place_hits
        )
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
        why = f"Recommended because {'; '.join(SITUATIONS[n] for n in names)}."
        if control.rationale:
            why += " " + " ".join(control.rationale.split())
        if best is not None:
            why += " " + _measured_text(best, rating)
        elif control.category == "training" and profile.any:
            why += (
                " Not measured: name a candidate estimator for it under "
                "controls.training_recipes to measure it."
            )
        if control.category == "output" and label_note:
            why += label_note
        level_gain = 0
        auc_gain = 0.0
        if (
            best is not None
            and best.residual is not None
            and best.residual.level in levels
            and rating.level in levels
        ):
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


# ====================================================== action plan, sign-off
def signoff_info(policy: Policy) -> SignOffInfo:
    """The policy's sign-off block for the report; ``final`` only when someone decided and signed.

    An assessment is final when the sign-off names an assessor, a decision
    (validated / conditional / refused) and a date; anything less is a draft.
    """
    s = policy.signoff
    final = s.assessor is not None and s.decision is not None and s.date is not None
    return SignOffInfo(
        assessor=s.assessor,
        assessor_role=s.assessor_role,
        dpo_opinion=s.dpo_opinion,
        decision=s.decision,
        date=s.date.isoformat() if s.date is not None else None,
        next_review=s.next_review.isoformat() if s.next_review is not None else None,
        triggers=list(s.triggers),
        status="final" if final else "draft",
    )


def action_plan_items(
    policy: Policy,
    recommendations: Sequence[ControlRecommendation],
    *,
    catalogue: Catalogue | None = None,
) -> list[ActionPlanItem]:
    """The action plan: the policy's planned items, then recommended controls not yet planned.

    Planned items keep the policy's owner, due date and status. A recommended
    control without an item appears as ``not planned`` with no owner, so the
    report shows the gap instead of hiding it. Items naming a control the
    catalogue does not know are kept and flagged in their note.
    """
    items: list[ActionPlanItem] = []
    known = set(catalogue.ids()) if catalogue is not None else None
    rec_by_id = {r.control_id: r for r in recommendations}
    planned: set[str] = set()
    for item in policy.action_plan:
        planned.add(item.control)
        notes = [item.note] if item.note else []
        rec = rec_by_id.get(item.control)
        if rec is not None and not rec.in_place:
            notes.append(f"recommended, priority {rec.priority}")
        if known is not None and item.control not in known:
            notes.append("not a control in the catalogue")
        items.append(
            ActionPlanItem(
                control=item.control,
                owner=item.owner,
                due=item.due.isoformat(),
                status=item.status,
                note="; ".join(notes),
            )
        )
    for rec in sorted(recommendations, key=lambda r: r.priority):
        if rec.in_place or rec.control_id in planned:
            continue
        items.append(
            ActionPlanItem(
                control=rec.control_id,
                owner="",
                due="",
                status="not planned",
                note=f"recommended, priority {rec.priority}; "
                "add an owner and due date under action_plan in the policy",
            )
        )
    return items
