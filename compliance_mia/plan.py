"""From exposure and policy to the list of attacks to run, each with its reason.

The plan is evidence in its own right: an auditor must see not only which
attacks ran but why the others did not (the exposure does not reveal what
they need, the policy excluded them, or the budget could not fit them).
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance_mia.assessment import Plan, PlannedAttack
from compliance_mia.attacks.base import Attack, registry
from compliance_mia.exposure import Signal
from compliance_mia.policy.schema import Policy


@dataclass(frozen=True)
class PlanResult:
    """The plan for the Assessment plus what the runner needs to execute it."""

    plan: Plan
    selected: list[str]
    reference_modes: frozenset[str]


def make_plan(
    policy: Policy,
    signals: frozenset[Signal],
    *,
    n_audit: int,
    n_population: int,
    can_train_references: bool,
    fit_seconds: float | None = None,
) -> PlanResult:
    """Choose the attacks an attacker with ``signals`` could run, within the policy's limits."""
    spec = policy.attacks
    reg = registry()
    unknown = sorted(set(spec.exclude) | (set(spec.select) if isinstance(spec.select, list) else set()))
    unknown = [name for name in unknown if name not in reg]
    if unknown:
        from compliance_mia.errors import PolicyError

        raise PolicyError(
            f"attacks: unknown attack(s) {', '.join(unknown)}; known: {', '.join(sorted(reg))}"
        )
    wanted = list(reg) if spec.select == "auto" else list(spec.select)
    planned: list[PlannedAttack] = []
    selected: list[str] = []
    modes: set[str] = set()
    for name, cls in sorted(reg.items()):
        attack: Attack = cls()
        s = cls.spec
        ok, why = attack.can_run(signals)
        if name not in wanted:
            ok, why = False, "not in the policy's attack list"
        elif name in spec.exclude:
            ok, why = False, "excluded by the policy"
        elif ok and s.needs_reference_models and spec.reference_models.count == 0:
            ok, why = False, "needs reference models and the policy sets reference_models.count to 0"
        elif ok and s.needs_reference_models and not can_train_references:
            ok, why = False, "needs reference models, but the target cannot be cloned and no surrogate is named"
        elif ok and s.needs_reference_models and spec.reference_models.mode not in (s.reference_mode, "both"):
            ok, why = False, f"needs {s.reference_mode} reference models; the policy asks for {spec.reference_models.mode}"
        planned.append(
            PlannedAttack(
                name=name,
                title=s.title,
                selected=ok,
                reason=why,
                requires=sorted(sig.value for sig in s.requires),
                needs_reference_models=s.needs_reference_models,
            )
        )
        if ok:
            selected.append(name)
            if s.reference_mode:
                modes.add(s.reference_mode)
    notes = []
    if not selected:
        notes.append("no attack can run with this exposure; the assessment cannot measure leakage")
    return PlanResult(
        plan=Plan(attacks=planned, budget_seconds=spec.budget_seconds, notes=notes),
        selected=selected,
        reference_modes=frozenset(modes),
    )
