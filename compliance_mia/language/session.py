"""A text attack session: score the texts once, then run and measure text attacks under any exposure.

The language model is asked for its token scores once (at the richest the
deployment exposes), and every attack, the deployment's and each what-if's,
reads them through :func:`compliance_mia.language.exposure.reduce_scores`,
the one place that hides what an exposure does not show. Before any attack,
a model-blind classifier (the blind baseline) is measured exactly like an
attack: if it tells members from non-members from the texts alone, the two
sets differ in distribution and no attack figure is evidence of
memorisation. Every measurement is the tabular one
(:func:`compliance_mia.metrics.evaluate_attack`, the simultaneous headline),
so text and tabular figures mean the same thing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from compliance_mia.assessment import AttackOutcome, Headline
from compliance_mia.errors import PolicyError, Problem, TargetError
from compliance_mia.language.logprobs import TextTarget, TokenScores
from compliance_mia.language.texts import TextData
from compliance_mia.metrics import StatisticsSettings, evaluate_attack, headline
from compliance_mia.policy.schema import TEXT_OUTPUTS, Policy
from compliance_mia.risk.facts import text_exposure_description as exposure_text
from compliance_mia.seeding import int_seed

log = logging.getLogger(__name__)

BLIND_NAME = "blind-baseline"
BLIND_FOLDS = 5

#: What each exposure lets an attack read, in words (the AttackOutcome's ``signal``).
NEEDS_TEXT = {
    "top_k_logprobs": "each token's log-probability and the top-k alternatives at each position",
    "token_logprobs": "each token's log-probability",
    "generated_text": "generated text only (greedy continuations of prompts)",
}


class _Progress:
    def stage(self, description: str, total: int | None = None) -> None:
        log.info("%s", description)

    def advance(self, amount: int = 1) -> None:
        pass


def poorer_exposures(outputs: str) -> list[str]:
    """The text exposures strictly poorer than ``outputs``, richest first (what output controls leave)."""
    order = list(TEXT_OUTPUTS)
    return order[order.index(outputs) + 1 :] if outputs in order else []


def available_attacks() -> dict[str, Any]:
    """The text attacks by name (the registry of compliance_mia.language.attacks)."""
    from compliance_mia.language.attacks import text_attacks

    return dict(text_attacks())


def selected_attacks(policy: Policy) -> list[str]:
    """Attacks the policy selects (``attacks.select`` / ``exclude``), checked against the registry."""
    known = available_attacks()
    spec = policy.attacks
    names = list(known) if spec.select == "auto" else list(spec.select)
    for key, values in (("select", names if spec.select != "auto" else []), ("exclude", spec.exclude)):
        for i, name in enumerate(values):
            if name not in known:
                raise PolicyError(
                    Problem(
                        f"unknown text attack '{name}'; known: {', '.join(sorted(known))}", field=f"attacks.{key}[{i}]"
                    )
                )
    return [n for n in names if n not in set(spec.exclude)]


def plan_attacks(
    policy: Policy, outputs: str, *, has_reference: bool, can_generate: bool
) -> tuple[list[str], dict[str, str]]:
    """The selected attacks that can run on what ``outputs`` shows, and why each other one cannot."""
    from compliance_mia.language.attacks import runnable

    allowed = set(runnable(outputs, has_reference))
    known = available_attacks()
    names: list[str] = []
    skipped: dict[str, str] = {}
    chosen = selected_attacks(policy)
    for name in known:
        spec = known[name].spec
        if name not in chosen:
            skipped[name] = "not selected by the policy (attacks.select / exclude)"
        elif name not in allowed:
            if spec.needs_reference and not has_reference:
                skipped[name] = "needs a reference model (model.reference)"
            else:
                skipped[name] = f"needs {NEEDS_TEXT.get(spec.needs, spec.needs)}, which this exposure hides"
        elif spec.needs == "generated_text" and not can_generate:
            skipped[name] = "needs generated text, which a log-probability file cannot produce"
        else:
            names.append(name)
    return names, skipped


@dataclass(frozen=True)
class BlindResult:
    """The blind baseline's outcome and whether it tells the sets apart (see risk.facts.distribution_shift)."""

    outcome: AttackOutcome
    scores: np.ndarray


class TextSession:
    """Runs text attacks against one language model on one set of audited texts.

    Holds the target's token scores (and the reference model's) for the
    audited texts, so attacks can be re-run under any poorer exposure at no
    extra query cost.
    """

    def __init__(
        self,
        policy: Policy,
        target: TextTarget,
        data: TextData,
        *,
        settings: StatisticsSettings,
        reference: TextTarget | None = None,
        progress: Any = None,
    ) -> None:
        self.policy = policy
        self.target = target
        self.reference = reference
        self.data = data
        self.settings = settings
        self.progress = progress or _Progress()
        self.seed = policy.seed
        self.ids = data.ids
        self.texts = data.texts
        self.is_member = data.is_member
        self.outputs = policy.exposure.outputs
        self.top_k = policy.exposure.top_k
        self.scores: dict[str, np.ndarray] = {}
        self.queries = 0
        self.raw: list[TokenScores] | None = None
        self.reference_raw: list[TokenScores] | None = None
        if self.outputs != "generated_text":
            self.progress.stage(f"Scoring {len(self.texts):,} texts with the language model")
            self.raw = self._score(target, "the model")
            if reference is not None:
                self.progress.stage(f"Scoring {len(self.texts):,} texts with the reference model")
                # the calibration reads the reference's token log-probabilities only: never ask it for top-k
                self.reference_raw = self._score(reference, "the reference model", top_k=0)
        self.can_generate = not hasattr(target, "score_ids")

    # ------------------------------------------------------------- scoring
    def _score(self, target: TextTarget, who: str, *, top_k: int | None = None) -> list[TokenScores]:
        k = top_k if top_k is not None else (int(self.top_k or 0) if self.outputs == "top_k_logprobs" else 0)
        score_ids: Callable[..., list[TokenScores]] | None = getattr(target, "score_ids", None)
        out = score_ids(self.ids, top_k=k) if score_ids is not None else target.score(self.texts, top_k=k)
        self.queries += len(self.texts)
        if len(out) != len(self.texts):
            raise TargetError(f"{who} returned token scores for {len(out)} texts, not the {len(self.texts)} asked")
        if k:
            short = next((i for i, s in enumerate(out) if s.top_logprobs is None or s.top_logprobs.shape[1] < k), None)
            if short is not None:
                raise TargetError(
                    f"{who} returned fewer than {k} top log-probabilities per token for text ID "
                    f"{self.ids[short]!r}, but the exposure (top_k_logprobs, top_k {k}) says callers get {k}; "
                    "lower exposure.top_k to what the deployment returns"
                )
        return out

    # --------------------------------------------------------- the baseline
    def blind(self) -> BlindResult:
        """The model-blind classifier's out-of-fold scores, measured like an attack (one comparison)."""
        from compliance_mia.language.blind import blind_baseline

        self.progress.stage("Blind baseline: can the texts alone tell members from non-members?")
        start = time.perf_counter()
        scores = np.asarray(
            blind_baseline(self.texts, self.is_member, seed=int_seed(self.seed, "blind-baseline"), folds=BLIND_FOLDS),
            dtype=float,
        )
        if scores.shape != (len(self.texts),) or not np.all(np.isfinite(scores)):
            raise RuntimeError("the blind baseline returned scores of the wrong shape or non-finite scores")
        metrics = evaluate_attack(
            scores, self.is_member, settings=self.settings, seed=self.seed, stream=BLIND_NAME, n_comparisons=1
        )
        outcome = AttackOutcome(
            name=BLIND_NAME,
            title="Blind baseline (model-free text classifier)",
            family="blind",
            summary=(
                "A classifier that never sees the model (word and character n-grams, logistic regression, "
                f"{BLIND_FOLDS}-fold cross-validation, each text scored by a classifier not fitted on it) tries "
                "to tell members from non-members by their wording alone."
            ),
            signal="the texts alone (no model output)",
            metrics=metrics,
            parameters={"folds": BLIND_FOLDS},
            duration_seconds=round(time.perf_counter() - start, 3),
        )
        return BlindResult(outcome=outcome, scores=scores)

    # ------------------------------------------------------------- planning
    def available(self) -> dict[str, Any]:
        """The text attacks by name (the registry of compliance_mia.language.attacks)."""
        return available_attacks()

    def runnable(self, outputs: str) -> tuple[list[str], dict[str, str]]:
        """Selected attacks that can run under ``outputs``, and why each other one cannot."""
        return plan_attacks(
            self.policy, outputs, has_reference=self.reference is not None, can_generate=self.can_generate
        )

    # -------------------------------------------------------------- running
    def run(
        self, names: Sequence[str], outputs: str, top_k: int | None, *, stream: str = "main", comparison: bool = False
    ) -> list[AttackOutcome]:
        """Run ``names`` on what ``outputs`` shows and measure each; scores kept in :attr:`scores`."""
        from compliance_mia.language.attacks import TextAttackContext
        from compliance_mia.language.exposure import reduce_scores

        scores = reduce_scores(self.raw, outputs, top_k) if self.raw is not None else None  # type: ignore[arg-type]
        # the reference model's scores are reduced at least as far as the target's (token log-probabilities
        # at most: the calibration reads nothing else), and not at all when the exposure hides scores
        ref = (
            reduce_scores(self.reference_raw, "token_logprobs" if outputs == "top_k_logprobs" else outputs, None)
            if self.reference_raw is not None
            else None
        )
        generate = self._generate if self.can_generate else None
        known = self.available()
        outcomes: list[AttackOutcome] = []
        self.scores = {}
        if names:
            self.progress.stage(
                f"Running {len(names)} text attacks on {exposure_text(outputs, top_k)}", total=len(names)
            )
        for name in names:
            cls = known[name]
            spec = cls.spec
            ctx = TextAttackContext(
                texts=list(self.texts),
                scores=scores,
                reference_scores=ref if spec.needs_reference else None,
                generate=generate if spec.needs == "generated_text" else None,
                seed=int_seed(self.seed, "text-attack", name),
                settings={},
            )
            before = self.queries
            start = time.perf_counter()
            result = np.asarray(cls().run(ctx), dtype=float)
            seconds = time.perf_counter() - start
            if result.shape != (len(self.texts),):
                raise RuntimeError(f"attack {name} returned {result.shape} scores for {len(self.texts)} texts")
            if not np.all(np.isfinite(result)):
                raise RuntimeError(f"attack {name} returned non-finite scores")
            metrics = evaluate_attack(
                result,
                self.is_member,
                settings=self.settings,
                seed=self.seed,
                stream=f"{stream}/{name}",
                n_comparisons=len(names),
                auc_bootstrap=not comparison,
            )
            self.scores[name] = result
            self.progress.advance()
            outcomes.append(
                AttackOutcome(
                    name=name,
                    title=spec.title,
                    family=spec.family,
                    summary=spec.summary,
                    signal=NEEDS_TEXT.get(spec.needs, str(spec.needs)),
                    reference_mode="offline" if spec.needs_reference else None,
                    reference_models=1 if spec.needs_reference else 0,
                    metrics=metrics,
                    parameters={"exposure": outputs, **({"top_k": top_k} if top_k else {})},
                    duration_seconds=round(seconds, 3),
                    queries=self.queries - before,
                )
            )
        return outcomes

    def _generate(self, prompts: list[str], max_new_tokens: int) -> list[str]:
        out = self.target.generate(prompts, max_new_tokens=max_new_tokens)
        self.queries += len(prompts)
        if len(out) != len(prompts):
            raise TargetError(f"the model returned {len(out)} continuations for {len(prompts)} prompts")
        return list(out)

    def headline(self, outcomes: list[AttackOutcome], *, comparisons: int | None = None) -> Headline | None:
        if not outcomes:
            return None
        scores = {o.name: self.scores[o.name] for o in outcomes}
        return headline(
            outcomes, scores, self.is_member, settings=self.settings, seed=self.seed, comparisons=comparisons
        )
