"""A character n-gram language model that memorises its training texts: a real, torch-free text target.

Add-one smoothed counts of each character after its ``order - 1`` preceding
characters, fitted on the member texts only, so members score higher than
texts it never saw. It implements the TextTarget protocol (score with top-k,
greedy generate) and writes the per-token log-probability JSONL that
``model.format: logprobs`` reads. Named pipeline_ngram (not ngram) so it cannot
collide with tests/language/attacks/ngram.py under pytest's rootdir imports.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from compliance_mia.language.logprobs import TokenScores


class NgramLM:
    name = "character 5-gram (test stand-in)"

    def __init__(self, texts: Sequence[str], *, order: int = 5) -> None:
        self.order = order
        self.vocab = sorted({c for t in texts for c in t} | set(" abcdefghijklmnopqrstuvwxyz.,"))
        self.counts: dict[str, Counter] = defaultdict(Counter)
        for text in texts:
            for i in range(1, len(text)):
                self.counts[text[max(0, i - order + 1) : i]][text[i]] += 1

    def _dist(self, context: str) -> tuple[Counter, int]:
        ctr = self.counts.get(context[-(self.order - 1) :], Counter())
        return ctr, sum(ctr.values())

    def score(self, texts: Sequence[str], *, top_k: int = 0) -> list[TokenScores]:
        out = []
        V = len(self.vocab)
        for text in texts:
            lps, tops = [], []
            for i in range(1, len(text)):
                ctr, n = self._dist(text[:i])
                lps.append(np.log((ctr.get(text[i], 0) + 1) / (n + V)))
                if top_k:
                    best = sorted(ctr.values(), reverse=True)[:top_k]
                    best += [0] * (top_k - len(best))
                    tops.append([np.log((c + 1) / (n + V)) for c in best])
            out.append(TokenScores(np.asarray(lps), np.asarray(tops) if top_k else None))
        return out

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int) -> list[str]:
        out = []
        for prompt in prompts:
            text = prompt
            for _ in range(max_new_tokens):
                ctr, _ = self._dist(text)
                text += ctr.most_common(1)[0][0] if ctr else " "
            out.append(text[len(prompt) :])
        return out

    def close(self) -> None:
        pass

    def write_logprobs(self, path: Path, records: Sequence[tuple[str, str]], *, top_k: int = 5) -> Path:
        """The JSONL a deployment owner would share: one line per text, by ID (no text)."""
        scores = self.score([t for _, t in records], top_k=top_k)
        with path.open("w", encoding="utf-8") as fh:
            for (ident, _), s in zip(records, scores, strict=True):
                row = {"id": ident, "token_logprobs": s.logprobs.tolist()}
                if s.top_logprobs is not None:
                    row["top_logprobs"] = s.top_logprobs.tolist()
                fh.write(json.dumps(row) + "\n")
        return path


WORDS_A = (
    "patient reported mild pain after the procedure and was discharged with advice to rest drink fluids "
    "return if fever develops follow up in two weeks with the clinic nurse who reviewed medication dose "
    "blood pressure stable heart rate normal wound clean dry sutures removed appointment booked family informed"
).split()
WORDS_B = (
    "quarterly revenue grew while operating margins narrowed as the board approved a dividend and a share "
    "buyback programme analysts expect guidance to remain cautious given currency headwinds and freight costs"
).split()


def passages(n: int, *, seed: int, words: Sequence[str] = WORDS_A, length: int = 40) -> list[str]:
    rnd = random.Random(seed)
    return [" ".join(rnd.choice(words) for _ in range(length)) + "." for _ in range(n)]


def write_jsonl(path: Path, records: Sequence[tuple[str, str]], **extra: Sequence[str]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i, (ident, text) in enumerate(records):
            row = {"id": ident, "text": text, **{k: v[i] for k, v in extra.items()}}
            fh.write(json.dumps(row) + "\n")
    return path


POLICY = """\
policy_version: 1
system:
  name: Clinical notes assistant
  owner: Clinical AI team
  assessment_type: pre-deployment
model:
  task: text-generation
  format: logprobs
  logprobs:
    file: token_logprobs.jsonl
data:
  members: members.jsonl
  non_members: non_members.jsonl
  id_column: id
  text_column: text
  slice_columns: [ward]
  categories: [health]
  data_subjects: 400
exposure:
  outputs: top_k_logprobs
  top_k: 5
  access: public
risk:
  appetite: limited
statistics:
  bootstrap_resamples: 200
  min_group_size: 10
seed: 3
"""


def write_text_case(folder: Path, *, n: int = 160, shifted: bool = False, seed: int = 2) -> Path:
    """Members, non-members, the model's log-probability file and a policy; returns the policy path."""
    folder.mkdir(parents=True, exist_ok=True)
    members = [(f"m-{i:04d}", t) for i, t in enumerate(passages(n, seed=seed))]
    words = WORDS_B if shifted else WORDS_A
    non_members = [(f"n-{i:04d}", t) for i, t in enumerate(passages(n, seed=seed + 1, words=words))]
    wards = ["east" if i % 2 else "west" for i in range(n)]
    write_jsonl(folder / "members.jsonl", members, ward=wards)
    write_jsonl(folder / "non_members.jsonl", non_members, ward=wards)
    lm = NgramLM([t for _, t in members])
    lm.write_logprobs(folder / "token_logprobs.jsonl", members + non_members, top_k=5)
    path = folder / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return path
