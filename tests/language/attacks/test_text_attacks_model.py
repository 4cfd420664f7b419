"""Every text attack against a real memorising model: detection, no detection without memorisation,
the exposure's limits, and determinism.

The target is a character n-gram model trained on the members
(``ngram.CharNgramLM``); members and non-members are passages drawn at
random from the same documents, so what the attacks find is memorisation,
not a difference between the sets.
"""

from __future__ import annotations

import numpy as np
import pytest
from ngram import CharNgramLM
from text_attack_helpers import Split, auc_ci

from compliance_mia.language.attacks import TextAttackContext, runnable, text_attacks
from compliance_mia.language.exposure import OUTPUTS, shows
from compliance_mia.language.logprobs import TextOutput, TokenScores

ALL = ["loss", "zlib", "min-k", "min-k-plus-plus", "reference", "continuation"]
#: (outputs, top_k) the tests run each attack under
EXPOSURES: list[tuple[TextOutput, int | None]] = [
    ("top_k_logprobs", 5),
    ("top_k_logprobs", 2),
    ("token_logprobs", None),
    ("generated_text", None),
]


def _context(
    split: Split,
    model: CharNgramLM,
    raw: list[TokenScores],
    raw_reference: list[TokenScores] | None,
    outputs: TextOutput,
    top_k: int | None,
) -> TextAttackContext:
    """The context an attacker with this exposure has: built from raw scores, reduced in one place."""
    return TextAttackContext.build(
        texts=split.texts,
        outputs=outputs,
        top_k=top_k,
        raw_scores=raw,
        raw_reference_scores=raw_reference,
        generate=lambda prompts, n: model.generate(prompts, max_new_tokens=n),
        seed=0,
    )


def test_build_reduces_the_target_and_the_reference_alike(split, raw_scores, raw_reference_scores):
    ctx = TextAttackContext.build(
        texts=split.texts,
        outputs="top_k_logprobs",
        top_k=3,
        raw_scores=raw_scores,
        raw_reference_scores=raw_reference_scores,
        seed=0,
    )
    assert ctx.scores[0].top_logprobs.shape[1] == 3 and ctx.reference_scores[0].top_logprobs.shape[1] == 3
    assert ctx.scores is not raw_scores and ctx.settings == {}
    text_only = TextAttackContext.build(
        texts=split.texts, outputs="generated_text", top_k=None, raw_scores=raw_scores, seed=0
    )
    assert text_only.scores is None and text_only.reference_scores is None
    with pytest.raises(ValueError, match="give the target's raw scores"):
        TextAttackContext.build(texts=split.texts, outputs="token_logprobs", top_k=None, raw_scores=None, seed=0)


def test_registry_holds_every_attack_with_what_the_report_needs():
    attacks = text_attacks()
    assert list(attacks) == ALL
    for name, cls in attacks.items():
        spec = cls.spec
        assert spec.name == name
        assert spec.title and spec.summary and spec.family and spec.threat_model and spec.citation
        assert spec.needs in OUTPUTS
    assert [n for n, c in attacks.items() if c.spec.needs_reference] == ["reference"]
    assert [n for n, c in attacks.items() if c.spec.cost == "high"] == ["continuation"]  # it queries the model


def test_runnable_follows_the_exposure():
    assert runnable("generated_text", True) == ["continuation"]
    assert runnable("token_logprobs", False) == ["loss", "zlib", "min-k", "continuation"]
    assert runnable("token_logprobs", True) == ["loss", "zlib", "min-k", "reference", "continuation"]
    assert runnable("top_k_logprobs", True) == ALL
    assert runnable("top_k_logprobs", True, top_k=1) == [n for n in ALL if n != "min-k-plus-plus"]
    assert runnable("top_k_logprobs", False, can_generate=False) == ["loss", "zlib", "min-k", "min-k-plus-plus"]


@pytest.mark.parametrize("has_reference", [False, True])
def test_no_attack_runs_that_needs_more_than_the_exposure_shows(has_reference):
    previous: set[str] = set()
    for outputs in OUTPUTS:  # poorest first: each exposure allows a superset of the poorer ones
        names = runnable(outputs, has_reference)
        for name, cls in text_attacks().items():
            allowed = shows(outputs, cls.spec.needs) and (has_reference or not cls.spec.needs_reference)
            assert (name in names) == allowed, (outputs, name)
        assert previous <= set(names)
        previous = set(names)


@pytest.mark.parametrize(("outputs", "top_k"), EXPOSURES)
def test_every_runnable_attack_detects_memorisation(split, target, raw_scores, raw_reference_scores, outputs, top_k):
    ctx = _context(split, target, raw_scores, raw_reference_scores, outputs, top_k)
    for name in runnable(outputs, True, top_k=top_k):
        scores = text_attacks()[name]().run(ctx)
        assert scores.shape == (len(split.texts),) and np.isfinite(scores).all(), name
        auc, lower, _ = auc_ci(scores, split.is_member)
        # 150 members vs 150 non-members: chance gives AUC 0.5 ± 0.07 (95%); these models memorise
        assert lower > 0.6 and auc > 0.7, (name, outputs, top_k, auc, lower)


def test_no_attack_finds_members_in_a_model_that_never_saw_them(split):
    never = CharNgramLM(split.others, order=8, name="never-saw-members")
    # its reference: the same kind of model on other passages of the source, again without the audited texts
    pool = split.others[75:] + split.others[:75]
    reference = CharNgramLM(pool[::2], order=8)
    raw = never.score(split.texts, top_k=5)
    ctx = _context(split, never, raw, reference.score(split.texts, top_k=5), "top_k_logprobs", 5)
    for name in runnable("top_k_logprobs", True):
        auc, lower, upper = auc_ci(text_attacks()[name]().run(ctx), split.is_member)
        assert lower < 0.5 < upper, (name, auc, lower, upper)


def _hide(raw: list[TokenScores], outputs: TextOutput, top_k: int | None, seed: int) -> list[TokenScores]:
    """Copies of ``raw`` with everything the exposure hides changed (and everything it shows kept)."""
    rng = np.random.default_rng(seed)
    out = []
    for s in raw:
        top = s.top_logprobs.copy()
        logprobs = s.logprobs
        if outputs == "generated_text":
            logprobs = logprobs - rng.uniform(0.1, 3.0, size=logprobs.shape)
            top = top - rng.uniform(0.1, 3.0, size=top.shape)
        elif outputs == "token_logprobs":
            top = np.sort(top - rng.uniform(0.1, 3.0, size=top.shape), axis=1)[:, ::-1]
        else:  # the alternatives beyond the k-th: lower still, in another order
            hidden = top[:, top_k:] - rng.uniform(0.1, 3.0, size=top[:, top_k:].shape)
            top[:, top_k:] = np.minimum(hidden, top[:, [top_k - 1]])[:, rng.permutation(hidden.shape[1])]
        out.append(TokenScores(logprobs.copy(), top))
    return out


@pytest.mark.parametrize(("outputs", "top_k"), EXPOSURES)
def test_changing_what_the_exposure_hides_changes_no_score(
    split, target, raw_scores, raw_reference_scores, outputs, top_k
):
    plain = _context(split, target, raw_scores, raw_reference_scores, outputs, top_k)
    changed = _context(
        split,
        target,
        _hide(raw_scores, outputs, top_k, seed=1),
        _hide(raw_reference_scores, outputs, top_k, seed=2),
        outputs,
        top_k,
    )
    # the perturbation is real: the raw scores differ where the exposure hides them
    assert not np.array_equal(_hide(raw_scores, outputs, top_k, 1)[0].top_logprobs, raw_scores[0].top_logprobs)
    for name in runnable(outputs, True, top_k=top_k):
        attack = text_attacks()[name]()
        np.testing.assert_array_equal(attack.run(plain), attack.run(changed), err_msg=f"{name} under {outputs}")


def test_scores_are_the_same_on_every_run(split, target, raw_scores, raw_reference_scores):
    first = _context(split, target, raw_scores, raw_reference_scores, "top_k_logprobs", 5)
    again = _context(split, target, target.score(split.texts, top_k=5), raw_reference_scores, "top_k_logprobs", 5)
    for name in runnable("top_k_logprobs", True):
        attack = text_attacks()[name]
        np.testing.assert_array_equal(attack().run(first), attack().run(again), err_msg=name)
