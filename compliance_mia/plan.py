"""From exposure and policy to the list of attacks to run, each with its reason.

The plan is evidence in its own right: an auditor must see not only which
attacks ran but why the others did not (the exposure does not reveal what
they need, the policy excluded them, or the budget could not fit them).

Each attack gets a rough time estimate from a simple cost model, so a
policy's ``budget_seconds`` can be honoured before anything runs:

* training the reference models of one mode is paid once, by the first
  attack that needs them: ``count × fit_seconds / workers`` plus predicting
  every audit and population record with each model;
* scoring costs ``record_seconds`` per audit and population record
  (:class:`~compliance_mia.attacks.base.AttackSpec`);
* attacks that perturb inputs send the queries per record their
  ``query_setting`` names (``label_only_queries`` for label-only
  robustness, ``boundary_queries`` for the decision-boundary search) to the
  target, and to every reference model when calibrated.

Within a budget the cheapest attacks are kept first; an attack that does
not fit is skipped with the time it would have needed. When the reference
models of a mode cannot fit at the policy's count, the plan proposes a
smaller count (at least :data:`MIN_REFERENCE_MODELS`) and says so.

**Offline or online by budget.** With ``reference_models.mode: both`` and a
budget that cannot pay for both modes' reference models, the plan keeps the
*online* mode first: it is the auditor's threat model (she holds the
training set and can train with each audited record) and gives the higher,
so the more cautious, leakage figure; offline attacks then run only if the
rest of the budget fits them, and say so when they do not.

**Threat models.** Every figure belongs to one threat model
(:data:`THREAT_MODELS`): *offline* — an outside attacker with the model's
outputs and population data only (reference-free attacks included); or
*online* — one who can also train models with the target record, as the
auditor can. The plan states which selected attacks represent which
(``PlanResult.threat_models`` and a note per threat model).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from compliance_mia.assessment import Plan, PlannedAttack
from compliance_mia.attacks.base import Attack, AttackSpec, registry
from compliance_mia.exposure import Signal
from compliance_mia.policy.schema import Policy

#: fewest reference models the planner will reduce a count to in order to fit a budget
MIN_REFERENCE_MODELS = 2
#: seconds to send one record to an in-process model and read its output (rough)
QUERY_SECONDS = 2e-5
#: seconds to predict one record with one reference model (rough)
PREDICT_SECONDS = 1e-5
_COST_RANK = {"low": 0, "medium": 1, "high": 2}
#: what each threat model assumes the attacker has, in words for the plan and the report
THREAT_MODELS = {
    "offline": "an outside attacker with the model's outputs and population data only",
    "online": "an attacker who can also train models with the target record, as the auditor can",
}


def threat_model(spec: AttackSpec) -> str:
    """'online' for attacks whose reference models trained with the audited records, else 'offline'."""
    return "online" if spec.reference_mode == "online" else "offline"


@dataclass(frozen=True)
class PlanResult:
    """The plan for the Assessment plus what the runner needs to execute it.

    ``reference_count`` is the number of reference models the plan was costed
    with: the policy's count, or fewer when the budget required it (then a
    note says so). ``estimated_seconds`` holds each attack's estimate,
    including the reference-model training it is the first to need.
    """

    plan: Plan
    selected: list[str]
    reference_modes: frozenset[str]
    reference_count: int = 0
    estimated_seconds: dict[str, float] = field(default_factory=dict)
    #: selected attack → "offline" or "online" (see :data:`THREAT_MODELS`)
    threat_models: dict[str, str] = field(default_factory=dict)


def estimate_fit_seconds(n_train: int) -> float:
    """A deliberately rough guess of one reference model's training time, when none is measured.

    Calibrated on a 100-tree random forest on tabular data (about 1.5 s for
    6,000 records on one core); pass a measured ``fit_seconds`` to
    :func:`make_plan` for anything else.
    """
    return 0.2 + 2.5e-4 * max(n_train, 0)


def _workers(n_jobs: int) -> int:
    return max(1, os.cpu_count() or 1) if n_jobs < 0 else max(1, n_jobs)


def reference_seconds(
    *, count: int, fit_seconds: float, n_audit: int, n_population: int, workers: int
) -> float:
    """Estimated wall time to train ``count`` reference models and predict every record."""
    if count <= 0:
        return 0.0
    rounds = -(-count // max(1, workers))  # ceil: models train ``workers`` at a time
    return rounds * fit_seconds + count * (n_audit + n_population) * PREDICT_SECONDS / max(
        1, workers
    )


def scoring_seconds(
    spec: AttackSpec, *, n_audit: int, n_population: int, queries_per_record: int, count: int
) -> float:
    """Estimated time to score the audit records once the reference models exist."""
    seconds = spec.record_seconds * (n_audit + n_population)
    if spec.perturbs_inputs:
        models = 1 + (count if spec.needs_reference_models else 0)
        seconds += n_audit * queries_per_record * models * QUERY_SECONDS
    return seconds


def describe_registry() -> list[dict[str, str]]:
    """One row per registered attack for ``compliance-mia attacks`` (plain strings)."""
    rows = []
    for name, cls in sorted(registry().items()):
        spec = cls.spec
        needs = ", ".join(Signal(s).describe() for s in sorted(sig.value for sig in spec.requires))
        rows.append(
            {
                "name": name,
                "title": spec.title,
                "family": spec.family,
                "needs": needs,
                "reference_models": spec.reference_mode or "none",
                "cost": spec.cost,
                "summary": spec.summary,
                "citation": spec.citation,
            }
        )
    return rows


def _eligibility(
    name: str,
    cls: type[Attack],
    policy: Policy,
    signals: frozenset[Signal],
    wanted: list[str],
    can_train_references: bool,
    n_population: int | None,
) -> tuple[bool, str]:
    spec = policy.attacks
    s = cls.spec
    ok, why = cls().can_run(signals)
    if name not in wanted:
        return False, "not in the policy's attack list"
    if name in spec.exclude:
        return False, "excluded by the policy"
    if not ok:
        return ok, why
    if s.needs_reference_models:
        if spec.reference_models.count == 0:
            return False, "needs reference models and the policy sets reference_models.count to 0"
        if not can_train_references:
            return (
                False,
                "needs reference models, but the target cannot be cloned and no surrogate is named",
            )
        if spec.reference_models.mode not in (s.reference_mode, "both"):
            return (
                False,
                f"needs {s.reference_mode} reference models; the policy asks for "
                f"{spec.reference_models.mode}",
            )
        if s.reference_mode == "online" and spec.reference_models.count < 2:
            return False, "online reference models need a count of at least 2 (IN and OUT models)"
    if (s.needs_reference_models or s.needs_population) and n_population == 0:
        return False, "needs attacker background (population) records and none are available"
    return True, why


def make_plan(
    policy: Policy,
    signals: frozenset[Signal],
    *,
    n_audit: int,
    n_population: int,
    can_train_references: bool,
    fit_seconds: float | None = None,
) -> PlanResult:
    """Choose the attacks an attacker with ``signals`` could run, within the policy's limits.

    Parameters
    ----------
    n_audit, n_population : records to score and background records. Zero
        means "not known yet" (a preliminary plan before the data is loaded):
        then nothing is skipped for lack of population data.
    fit_seconds : measured (or known) training time of one reference model;
        estimated from the pool size when omitted.
    """
    spec = policy.attacks
    reg = registry()
    listed = set(spec.select) if isinstance(spec.select, list) else set()
    unknown = [name for name in sorted(set(spec.exclude) | listed) if name not in reg]
    if unknown:
        from compliance_mia.errors import PolicyError

        raise PolicyError(
            f"attacks: unknown attack(s) {', '.join(unknown)}; known: {', '.join(sorted(reg))}"
        )
    wanted = list(reg) if spec.select == "auto" else list(spec.select)
    refs = spec.reference_models
    workers = _workers(refs.n_jobs) if refs.backend != "sequential" else 1
    population_known = n_population if (n_audit or n_population) else None

    eligible: dict[str, tuple[bool, str]] = {
        name: _eligibility(
            name, cls, policy, signals, wanted, can_train_references, population_known
        )
        for name, cls in reg.items()
    }

    def train_cost(mode: str, count: int) -> float:
        if mode == "online" and refs.online_pool == "audit":
            pool = n_audit
        else:
            pool = n_population + (n_audit if mode == "online" else 0)
        fit = fit_seconds if fit_seconds is not None else estimate_fit_seconds(pool // 2)
        return reference_seconds(
            count=count,
            fit_seconds=fit,
            n_audit=n_audit,
            n_population=n_population,
            workers=workers,
        )

    def own_cost(s: AttackSpec, count: int) -> float:
        return scoring_seconds(
            s,
            n_audit=n_audit,
            n_population=n_population,
            queries_per_record=int(getattr(spec, s.query_setting)),
            count=count,
        )

    count = refs.count
    notes: list[str] = []
    budget = spec.budget_seconds
    candidates = [n for n in reg if eligible[n][0]]
    needs_refs = any(reg[n].spec.needs_reference_models for n in candidates)
    if budget is not None and needs_refs:
        modes_needed = {reg[n].spec.reference_mode for n in candidates} - {None}
        cheapest_mode = min(modes_needed, key=lambda m: train_cost(m, count))
        while count > MIN_REFERENCE_MODELS and train_cost(cheapest_mode, count) > budget:
            count -= 1
        if count < refs.count:
            notes.append(
                f"the time budget ({budget:g} s) cannot fit {refs.count} reference models; "
                "the plan "
                f"is costed with {count} (attacks are weaker with fewer reference models)"
            )

    # with both modes wanted and a budget that cannot train both, online goes first (see above)
    online_first = False
    if budget is not None and refs.mode == "both":
        modes_wanted = {reg[n].spec.reference_mode for n in candidates} - {None}
        if modes_wanted == {"offline", "online"}:
            online_first = train_cost("offline", count) + train_cost("online", count) > budget
            if online_first:
                notes.append(
                    f"the time budget ({budget:g} s) cannot train both offline and online reference "
                    "models; online attacks (the auditor's threat model, the higher figure) are "
                    "planned first, offline ones only as far as the rest of the budget allows"
                )

    def mode_rank(n: str) -> int:
        mode = reg[n].spec.reference_mode
        if mode is None:
            return 0
        return 1 if (mode == "online") == online_first else 2

    # cheapest first, so a budget keeps as many attacks as it can
    order = sorted(
        candidates,
        key=lambda n: (
            mode_rank(n),
            _COST_RANK[reg[n].spec.cost],
            own_cost(reg[n].spec, count),
            n,
        ),
    )
    estimates: dict[str, float] = {}
    decisions: dict[str, tuple[bool, str]] = dict(eligible)
    spent = 0.0
    trained: set[str] = set()
    for name in order:
        s = reg[name].spec
        extra = 0.0
        if s.reference_mode and s.reference_mode not in trained:
            extra = train_cost(s.reference_mode, count)
        seconds = own_cost(s, count) + extra
        estimates[name] = round(seconds, 2)
        if budget is not None and spent + seconds > budget:
            left = max(budget - spent, 0.0)
            decisions[name] = (
                False,
                f"skipped to fit the time budget: needs about {seconds:.0f} s"
                + (f" (including {extra:.0f} s of reference-model training)" if extra else "")
                + f", {left:.0f} s of {budget:g} s left",
            )
            continue
        spent += seconds
        if s.reference_mode:
            trained.add(s.reference_mode)

    planned: list[PlannedAttack] = []
    selected: list[str] = []
    modes: set[str] = set()
    for name, cls in sorted(reg.items()):
        s = cls.spec
        ok, why = decisions[name]
        planned.append(
            PlannedAttack(
                name=name,
                title=s.title,
                selected=ok,
                reason=why,
                requires=sorted(sig.value for sig in s.requires),
                needs_reference_models=s.needs_reference_models,
                estimated_seconds=estimates.get(name),
            )
        )
        if ok:
            selected.append(name)
            if s.reference_mode:
                modes.add(s.reference_mode)
    if not selected:
        notes.append("no attack can run with this exposure; the assessment cannot measure leakage")
    elif not any(reg[n].spec.needs_reference_models for n in selected):
        blocked = [
            decisions[n][1]
            for n, cls in sorted(reg.items())
            if cls.spec.needs_reference_models and n in wanted and cls().can_run(signals)[0]
        ]
        if blocked:
            notes.append(
                "no attack using reference models runs, so the strongest attacks are missing: "
                + blocked[0]
            )
    threats = {name: threat_model(reg[name].spec) for name in selected}
    for model in ("offline", "online"):
        names = sorted(n for n, t in threats.items() if t == model)
        if names:
            notes.append(
                f"{model} threat model ({THREAT_MODELS[model]}): the figures of "
                + ", ".join(names)
            )
    if budget is not None and selected:
        notes.append(f"estimated time of the selected attacks: about {spent:.0f} s of {budget:g} s")
    return PlanResult(
        plan=Plan(attacks=planned, budget_seconds=budget, notes=notes),
        selected=selected,
        reference_modes=frozenset(modes),
        reference_count=count if modes else refs.count,
        estimated_seconds=estimates,
        threat_models=threats,
    )
