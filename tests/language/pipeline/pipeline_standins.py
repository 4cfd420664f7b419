"""Stand-ins for the text-attacks and text-sources modules, used only while those branches are unmerged.

Each is installed (tests/language/pipeline/conftest.py) only when the real
module cannot be imported, so once the three branches are merged the
pipeline tests run against the real attacks, blind baseline and file target.
They follow the shared contract exactly (names, fields, signatures), and are
real computations (mean log-likelihood, Min-K%, TF-IDF + logistic regression
out of fold), so the pipeline's figures here are genuine.
"""

from __future__ import annotations

import json
import sys
import types
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from compliance_mia.errors import TargetError
from compliance_mia.language.logprobs import TokenScores

_ORDER = ("top_k_logprobs", "token_logprobs", "generated_text")


# ------------------------------------------------------------------ exposure
def reduce_scores(scores: list[TokenScores], outputs: str, top_k: int | None) -> list[TokenScores] | None:
    if outputs == "generated_text":
        return None
    if outputs == "token_logprobs":
        return [TokenScores(s.logprobs) for s in scores]
    return [
        TokenScores(s.logprobs, None if s.top_logprobs is None else s.top_logprobs[:, : int(top_k or 0)])
        for s in scores
    ]


# ------------------------------------------------------------------- attacks
@dataclass(frozen=True)
class TextAttackSpec:
    name: str
    title: str
    summary: str
    family: str
    needs: str
    needs_reference: bool
    threat_model: str


@dataclass(frozen=True)
class TextAttackContext:
    texts: list[str]
    scores: list[TokenScores] | None
    reference_scores: list[TokenScores] | None
    generate: Callable[[list[str], int], list[str]] | None
    seed: int
    settings: Mapping[str, Any]


class TextAttack:
    spec: TextAttackSpec

    def run(self, ctx: TextAttackContext) -> np.ndarray:
        raise NotImplementedError


def _spec(name: str, title: str, needs: str, family: str = "threshold", ref: bool = False) -> TextAttackSpec:
    return TextAttackSpec(name, title, f"{title} (stand-in).", family, needs, ref, "black-box caller")


class Loss(TextAttack):
    spec = _spec("loss", "Loss (mean token log-likelihood)", "token_logprobs")

    def run(self, ctx: TextAttackContext) -> np.ndarray:
        return np.array([s.logprobs.mean() for s in ctx.scores or []])


class Zlib(TextAttack):
    spec = _spec("zlib", "zlib entropy ratio", "token_logprobs")

    def run(self, ctx: TextAttackContext) -> np.ndarray:
        return np.array(
            [
                s.logprobs.sum() / len(zlib.compress(t.encode()))
                for s, t in zip(ctx.scores or [], ctx.texts, strict=True)
            ]
        )


class MinK(TextAttack):
    spec = _spec("min-k", "Min-K% Prob", "token_logprobs")

    def run(self, ctx: TextAttackContext) -> np.ndarray:
        out = []
        for s in ctx.scores or []:
            k = max(1, int(0.2 * len(s.logprobs)))
            out.append(np.sort(s.logprobs)[:k].mean())
        return np.array(out)


class MinKPP(TextAttack):
    spec = _spec("min-k-plus-plus", "Min-K%++ (top-k approximation)", "top_k_logprobs")

    def run(self, ctx: TextAttackContext) -> np.ndarray:
        out = []
        for s in ctx.scores or []:
            top = s.top_logprobs
            p = np.exp(top)
            p = p / p.sum(axis=1, keepdims=True)
            mu = (p * top).sum(axis=1)
            sd = np.sqrt(np.maximum((p * top**2).sum(axis=1) - mu**2, 1e-12))
            z = (s.logprobs - mu) / sd
            k = max(1, int(0.2 * len(z)))
            out.append(np.sort(z)[:k].mean())
        return np.array(out)


class Reference(TextAttack):
    spec = _spec("reference", "Reference calibration", "token_logprobs", family="reference", ref=True)

    def run(self, ctx: TextAttackContext) -> np.ndarray:
        assert ctx.reference_scores is not None
        return np.array(
            [t.logprobs.mean() - r.logprobs.mean() for t, r in zip(ctx.scores or [], ctx.reference_scores, strict=True)]
        )


class Continuation(TextAttack):
    spec = _spec("continuation", "Verbatim continuation", "generated_text", family="label-only")

    def run(self, ctx: TextAttackContext) -> np.ndarray:
        assert ctx.generate is not None
        halves = [len(t) // 2 for t in ctx.texts]
        gen = ctx.generate([t[:h] for t, h in zip(ctx.texts, halves, strict=True)], 30)
        return np.array(
            [
                float(np.mean([a == b for a, b in zip(g, t[h : h + 30], strict=False)] or [0]))
                for g, t, h in zip(gen, ctx.texts, halves, strict=True)
            ]
        )


_ATTACKS: dict[str, type[TextAttack]] = {c.spec.name: c for c in (Loss, Zlib, MinK, MinKPP, Reference, Continuation)}


def text_attacks() -> dict[str, type[TextAttack]]:
    return dict(_ATTACKS)


def runnable(outputs: str, has_reference: bool) -> list[str]:
    rank = _ORDER.index(outputs)
    return [
        n
        for n, c in _ATTACKS.items()
        if _ORDER.index(c.spec.needs) >= rank and (has_reference or not c.spec.needs_reference)
    ]


# --------------------------------------------------------------------- blind
def blind_baseline(texts: list[str], is_member: np.ndarray, *, seed: int, folds: int = 5) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline

    y = np.asarray(is_member, dtype=int)
    out = np.zeros(len(texts))
    arr = np.asarray(texts, dtype=object)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed % 2**32).split(arr, y):
        model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(max_iter=1000))
        model.fit(arr[train], y[train])
        out[test] = model.decision_function(arr[test])
    return out


# ------------------------------------------------------------- logprob file
class LogprobFileLM:
    def __init__(self, path: Path, *, ids: Sequence[str] | None = None) -> None:
        self.name = f"log-probability file {path.name}"
        self.rows: dict[str, TokenScores] = {}
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                top = row.get("top_logprobs")
                self.rows[str(row["id"])] = TokenScores(
                    np.asarray(row["token_logprobs"], float), None if top is None else np.asarray(top, float)
                )

    def score_ids(self, ids: Sequence[str], *, top_k: int = 0) -> list[TokenScores]:
        out = []
        for i in ids:
            if i not in self.rows:
                raise TargetError(f"no line for ID {i!r} in the log-probability file")
            s = self.rows[i]
            top = None if not top_k or s.top_logprobs is None else s.top_logprobs[:, :top_k]
            out.append(TokenScores(s.logprobs, top))
        return out

    def score(self, texts: Sequence[str], *, top_k: int = 0) -> list[TokenScores]:
        raise TargetError("a log-probability file cannot look texts up by content; use score_ids")

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int) -> list[str]:
        raise TargetError("a log-probability file cannot generate text")

    def close(self) -> None:
        pass


def install() -> list[str]:
    """Register each stand-in whose real module is missing; returns the names installed."""
    import importlib

    wanted = {
        "compliance_mia.language.exposure": {"reduce_scores": reduce_scores},
        "compliance_mia.language.attacks": {
            "TextAttackSpec": TextAttackSpec,
            "TextAttackContext": TextAttackContext,
            "TextAttack": TextAttack,
            "text_attacks": text_attacks,
            "runnable": runnable,
        },
        "compliance_mia.language.blind": {"blind_baseline": blind_baseline},
        "compliance_mia.language.logprob_file": {"LogprobFileLM": LogprobFileLM},
    }
    installed = []
    for name, attrs in wanted.items():
        try:
            importlib.import_module(name)
        except ImportError:
            module = types.ModuleType(name)
            module.__dict__.update(attrs)
            sys.modules[name] = module
            installed.append(name)
    return installed
