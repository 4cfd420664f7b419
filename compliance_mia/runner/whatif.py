"""Measure what a control would change, before anyone builds it.

Output controls (labels only, top-k, rounding, noise) are measured by
re-running the same attacks under the restricted exposure the control would
impose. The attack session keeps the deployed model's raw outputs and the
attacker's reference models, so a what-if costs no new queries to the
deployment and no retraining: only the exposure transform changes, exactly
as it would in production.

Training-time controls are measured when the policy names a candidate
recipe (``controls.training_recipes``): the candidate is trained on the
members, attacked the same way (its reference models trained with the same
recipe, as an attacker who knows the recipe would), and its accuracy on the
non-members is reported beside the privacy gain.

Each result carries the residual rating under the matrix, so the report can
show before/after on the heat map.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from compliance_mia.assessment import (
    AttackOutcome,
    ControlRecommendation,
    Headline,
    Interval,
    RiskRating,
    RuleFired,
    WhatIfResult,
)
from compliance_mia.controls import (
    Catalogue,
    action_plan_items,
    load_catalogue,
    restricted_exposure,
    signoff_info,
)
from compliance_mia.errors import ComplianceMiaError, PolicyError, Problem
from compliance_mia.exposure import Exposure
from compliance_mia.figures import point_at
from compliance_mia.seeding import int_seed

if TYPE_CHECKING:
    from compliance_mia.policy.schema import TrainingRecipe
    from compliance_mia.runner.session import AttackSession

log = logging.getLogger(__name__)

__all__ = [
    "RateFn",
    "action_plan_items",
    "measure_output_controls",
    "measure_training_recipes",
    "output_control_scenarios",
    "residual_rating",
    "signoff_info",
    "whatif_one",
]

#: ``rate_fn(headline, exposure, label_only_headline) -> RiskRating``: rates the same
#: system with a different measured headline under a different exposure.
RateFn = Callable[[Headline | None, Exposure, Headline | None], RiskRating]

Scenario = tuple[str, str, Exposure]


# ================================================================ scenarios
def output_control_scenarios(
    catalogue: Catalogue, current: Exposure, *, noise_scale: float, seed: int
) -> list[Scenario]:
    """``(control_id, label, restricted exposure)`` for each output control stricter than now.

    A control with several variants (e.g. rounding to 2 and to 1 decimals)
    yields one scenario per variant that is stricter. The noise stream of a
    perturbation scenario is derived from the seed and the control, so the
    same policy gives the same figures.
    """
    out: list[Scenario] = []
    for control in catalogue.controls:
        if control.category != "output":
            continue
        for j, change in enumerate(control.exposure):
            restricted = restricted_exposure(
                current,
                change,
                noise_scale=noise_scale,
                noise_seed=int_seed(seed, "whatif-noise", control.id, j),
            )
            if restricted is not None:
                out.append((control.id, restricted.describe(), restricted))
    return out


# ================================================================ measuring
def _tpr_1pct(head: Headline | None) -> Interval | None:
    point = point_at(head.tpr_at_fpr, 0.01) if head is not None else None
    return point.tpr if point is not None and point.measurable else None


def _note(session: AttackSession, names: list[str], head: Headline | None, candidates: list[str]) -> str:
    parts = []
    skipped = [n for n in candidates if n not in names]
    if skipped:
        parts.append(f"could not run under this exposure: {', '.join(skipped)}")
    if head is None:
        parts.append("no attack could run, so leakage under this setting was not measured")
    elif _tpr_1pct(head) is None:
        point = point_at(head.tpr_at_fpr, 0.01)
        reason = (point.reason if point is not None else None) or "not determinable at this sample size"
        parts.append(f"TPR at 1% FPR {reason}")
    return "; ".join(parts)


def _measure(
    session: AttackSession,
    *,
    control_id: str,
    label: str,
    exposure: Exposure,
    kind: str,
    rate_fn: RateFn,
    stream: str,
    candidates: list[str] | None = None,
) -> tuple[WhatIfResult, list[AttackOutcome]]:
    pool = list(candidates) if candidates is not None else list(session.selected)
    names = session.runnable(exposure, pool)
    outcomes = session.run(names, exposure, stream=stream, comparison=True) if names else []
    head = session.headline(outcomes) if outcomes else None
    label_head = session.label_only_headline(outcomes) if outcomes else None
    residual = rate_fn(head, exposure, label_head)
    result = WhatIfResult(
        control_id=control_id,
        label=label,
        kind=kind,  # type: ignore[arg-type]
        strongest_attack=head.strongest_attack if head is not None else None,
        auc=head.auc if head is not None else None,
        tpr_at_1pct_fpr=_tpr_1pct(head),
        attacks_run=names,
        per_attack_auc={o.name: o.metrics.auc.estimate for o in outcomes},
        residual=residual,
        note=_note(session, names, head, pool),
    )
    return result, outcomes


def measure_output_controls(
    session: AttackSession, scenarios: Sequence[Scenario], *, rate_fn: RateFn
) -> list[WhatIfResult]:
    """Re-run the session's attacks under each scenario's exposure and rate the result.

    Reuses the session's raw outputs and reference models: no new queries to
    the deployment, no retraining. The session's current per-attack scores
    are restored afterwards.
    """
    saved = dict(session.scores)
    results: list[WhatIfResult] = []
    try:
        for i, (control_id, label, exposure) in enumerate(scenarios):
            log.info("what-if %s: %s", control_id, label)
            result, _ = _measure(
                session,
                control_id=control_id,
                label=label,
                exposure=exposure,
                kind="output",
                rate_fn=rate_fn,
                stream=f"whatif/{control_id}/{i}",
            )
            results.append(result)
    finally:
        session.scores = saved
    return results


def _recipe_error(index: int, recipe: TrainingRecipe, message: str) -> PolicyError:
    return PolicyError(Problem(f"{recipe.name}: {message}", field=f"controls.training_recipes[{index}]"))


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _check_recipe(index: int, recipe: TrainingRecipe, catalogue: Catalogue) -> None:
    training = [c.id for c in catalogue.controls if c.category == "training"]
    try:
        control = catalogue.control(recipe.control)
    except KeyError:
        raise _recipe_error(
            index,
            recipe,
            f"control '{recipe.control}' is not in the controls catalogue; use one of {', '.join(training)}",
        ) from None
    if control.category != "training":
        raise _recipe_error(
            index,
            recipe,
            f"control '{recipe.control}' is {_article(control.category)} {control.category} "
            "control, not a training-time one; "
            f"use one of {', '.join(training)}",
        )


def _fit_candidate(session: AttackSession, index: int, recipe: TrainingRecipe) -> tuple[Any, Any]:
    """The recipe's estimator trained on the members, and an unfitted copy for reference models."""
    from sklearn.base import clone

    from compliance_mia.estimators import estimator_from_spec

    if recipe.estimator is not None:
        template = estimator_from_spec(recipe.estimator)
        chosen = recipe.estimator.params
    else:
        base = session.target.estimator_template()
        if base is None:
            raise _recipe_error(
                index,
                recipe,
                "'params' changes a copy of the assessed model, but this target cannot be copied "
                "(a black box); name an 'estimator' instead",
            )
        chosen = dict(recipe.params or {})
        try:
            template = base.set_params(**chosen)
        except (ValueError, TypeError) as exc:
            raise _recipe_error(index, recipe, f"cannot set {', '.join(sorted(chosen))} on the model ({exc})") from None
    try:
        params = template.get_params()
    except Exception:  # noqa: BLE001 - estimators outside sklearn may not implement it fully
        params = {}
    seeds = {
        k: int_seed(session.seed, "whatif-recipe", recipe.name, k)
        for k in params
        if (k == "random_state" or k.endswith("__random_state")) and k not in chosen
    }
    if seeds:
        template.set_params(**seeds)
    members = session.data.members
    try:
        fitted = clone(template).fit(members.X, members.y)
    except Exception as exc:  # noqa: BLE001 - any estimator error is the recipe's, reported to the analyst
        raise _recipe_error(index, recipe, f"the estimator could not be trained on the members ({exc})") from None
    return fitted, clone(template)


def _recipe_label(recipe: TrainingRecipe) -> str:
    if recipe.estimator is None:
        params = ", ".join(f"{k}={v!r}" for k, v in sorted((recipe.params or {}).items()))
        return f"the model retrained as {recipe.name}: the same model with {params}"
    params = ", ".join(f"{k}={v!r}" for k, v in sorted(recipe.estimator.params.items()))
    name = recipe.estimator.class_path.rsplit(".", 1)[-1]
    return f"the model retrained as {recipe.name}: {name}({params})"


def measure_training_recipes(
    session: AttackSession,
    recipes: Sequence[TrainingRecipe],
    *,
    rate_fn: RateFn,
    catalogue: Catalogue | None = None,
) -> list[WhatIfResult]:
    """Retrain each candidate on the members, re-attack it, and report privacy beside utility.

    Utility is accuracy on the non-members (records neither model trained
    on), before (the assessed model) and after (the candidate). The same
    exposure as the deployment is used, so the difference is the recipe's.

    Raises
    ------
    PolicyError
        When a recipe names a control that is not a training-time control of
        the catalogue, or its estimator cannot be built or trained.
    """
    from compliance_mia.targets.sklearn import SklearnTarget

    catalogue = catalogue or load_catalogue(session.policy.controls.catalogue)
    exposure = Exposure.from_spec(session.policy.exposure)
    _, before = session.accuracy()
    results: list[WhatIfResult] = []
    for i, recipe in enumerate(recipes):
        _check_recipe(i, recipe, catalogue)
        fitted, unfitted = _fit_candidate(session, i, recipe)
        candidate = session.with_target(SklearnTarget(fitted), unfitted, type(unfitted).__name__)
        try:
            result, _ = _measure(
                candidate,
                control_id=recipe.control,
                label=_recipe_label(recipe),
                exposure=exposure,
                kind="training",
                rate_fn=rate_fn,
                stream=f"whatif/recipe/{recipe.name}",
                candidates=list(session.selected),
            )
            _, after = candidate.accuracy()
        finally:
            candidate.target.close()
        results.append(result.model_copy(update={"utility_before": before, "utility_after": after}))
    return results


# =================================================================== single
def _rank(result: WhatIfResult) -> tuple[int, float]:
    residual = result.residual
    level = residual.levels.index(residual.level) if residual is not None and residual.level in residual.levels else 99
    auc = result.auc.estimate if result.auc is not None and result.auc.estimate is not None else 1.0
    return level, auc


def whatif_one(
    session: AttackSession,
    control_id: str,
    *,
    catalogue: Catalogue,
    rate_fn: RateFn,
    current: Exposure | None = None,
    noise_scale: float | None = None,
    seed: int | None = None,
) -> WhatIfResult:
    """Measure one catalogue control (``compliance-mia whatif POLICY --control NAME``).

    For an output control with several variants (e.g. rounding to 2 and to 1
    decimals) every variant is measured and the most protective returned,
    the others summarised in its note. For a training-time control the
    policy must name a recipe for it under ``controls.training_recipes``.

    Raises
    ------
    ComplianceMiaError
        When the control is unknown, would not change the current exposure,
        cannot be measured (access, data and governance controls change who
        can query or how the organisation works, not the model's outputs), or
        has no training recipe.
    """
    policy = session.policy
    try:
        control = catalogue.control(control_id)
    except KeyError:
        measurable = [c.id for c in catalogue.controls if c.category in ("output", "training")]
        raise ComplianceMiaError(
            f"unknown control '{control_id}'; controls that can be measured: {', '.join(measurable)}"
        ) from None
    current = current or Exposure.from_spec(policy.exposure)
    if control.category == "output":
        scenarios = [
            s
            for s in output_control_scenarios(
                catalogue,
                current,
                noise_scale=noise_scale if noise_scale is not None else policy.controls.output_noise_scale,
                seed=seed if seed is not None else policy.seed,
            )
            if s[0] == control_id
        ]
        if not scenarios:
            raise ComplianceMiaError(
                f"control '{control_id}' would not restrict the current exposure "
                f"({current.describe()}); "
                "there is nothing to measure"
            )
        results = measure_output_controls(session, scenarios, rate_fn=rate_fn)
    elif control.category == "training":
        recipes = [r for r in policy.controls.training_recipes if r.control == control_id]
        if not recipes:
            raise ComplianceMiaError(
                f"control '{control_id}' is a training-time control: name a candidate estimator "
                f"for it under controls.training_recipes (name, control: {control_id}, "
                "estimator: {class, params}) to measure it"
            )
        results = measure_training_recipes(session, recipes, rate_fn=rate_fn, catalogue=catalogue)
    else:
        raise ComplianceMiaError(
            f"control '{control_id}' is {_article(control.category)} {control.category} "
            "control: it changes who can query or how the model is governed, not what the model "
            "returns, so there is nothing to re-measure; the risk matrix's access adjustments "
            "describe its effect on the rating"
        )
    best = min(results, key=_rank)
    others = [r for r in results if r is not best]
    if others:
        summary = "; ".join(
            f"{r.label}: AUC {r.auc.estimate:.2f}" if r.auc is not None and r.auc.estimate is not None else r.label
            for r in others
        )
        note = "; ".join(p for p in (best.note, f"other variants measured: {summary}") if p)
        best = best.model_copy(update={"note": note})
    return best


# ================================================================= residual
def residual_rating(controls: Sequence[ControlRecommendation], rating: RiskRating) -> RiskRating | None:
    """The rating after the recommended control whose measured what-if lowers it most.

    Controls are measured one at a time, never combined, so the residual is
    the best single measured control, not a sum of assumed effects. None
    when no recommended control was measured.
    """
    measured = [c for c in controls if not c.in_place and c.what_if is not None and c.what_if.residual is not None]
    if not measured:
        return None
    levels = list(rating.levels)

    def key(c: ControlRecommendation) -> tuple[int, float, int]:
        assert c.what_if is not None and c.what_if.residual is not None
        level = c.what_if.residual.level
        auc = c.what_if.auc.estimate if c.what_if.auc is not None and c.what_if.auc.estimate is not None else 1.0
        return (levels.index(level) if level in levels else len(levels), auc, c.priority)

    best = min(measured, key=key)
    assert best.what_if is not None and best.what_if.residual is not None
    residual = best.what_if.residual
    note = RuleFired(
        dimension="level",
        rule_id="RESIDUAL",
        result=residual.level,
        because=(
            f"residual level = {residual.level} (before: {rating.level}) under control "
            f"'{best.control_id}' ({best.what_if.label}), the recommended control whose measured "
            "what-if lowers the rating most; controls were measured one at a time, not combined"
        ),
        inputs={"control": best.control_id, "before": rating.level, "after": residual.level},
    )
    return residual.model_copy(update={"rules": [*residual.rules, note]})
