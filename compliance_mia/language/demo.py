"""The offline text demo: a tiny language model trained on known passages, and the policy to audit it.

Membership is known exactly because the model is trained here, from scratch,
on passages of Python's own documentation (:mod:`compliance_mia.language.corpus`,
PSF licence, no download). Passages are assigned to members, non-members and
the attacker's population at random (seeded) *within the same documents*, so
the two audited sets differ only in whether the model saw them: an attack
that separates them has found memorisation, and a model-blind classifier
should not separate them. The shifted variant takes the non-members from a
different source (standard-library docstrings) instead, the situation in
which published LLM membership results were shown to be artefacts (Duan et
al. 2024; Das et al. 2024) and which the blind baseline must catch.

Sizes are chosen so that training the target and the reference takes well
under two minutes on two CPU cores while the target memorises its members
enough for the loss attack to detect them (figures in docs/targets.md).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance_mia.language.corpus import builtin_corpus, document_of
from compliance_mia.seeding import int_seed, rng

__all__ = ["DemoSizes", "build_text_demo", "text_demo_policy"]

#: the model directories and data files the demo writes, by role
FILES = {
    "members": "members.jsonl",
    "non_members": "non_members.jsonl",
    "population": "population.jsonl",
    "target": "target-lm",
    "reference": "reference-lm",
}


@dataclass(frozen=True)
class DemoSizes:
    """How big the demo is: data split and model size. The default is the demo; tests use a smaller one."""

    members: int = 150
    non_members: int = 150
    epochs: int = 16
    reference_epochs: int = 10
    vocab_size: int = 1024
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    max_tokens: int = 128


#: a demo small enough for tests (a few seconds): few passages, a one-layer model, few epochs
QUICK = DemoSizes(members=40, non_members=40, epochs=4, reference_epochs=2, vocab_size=300, n_embd=32, n_layer=1,
                  n_head=2, max_tokens=64)


def text_demo_policy(*, shifted: bool, seed: int, sizes: DemoSizes) -> dict[str, Any]:
    """The policy the text demo runs (a plain mapping, written out as YAML for the user to adapt)."""
    source = (
        "members are passages of the Python language reference; non-members are standard-library docstrings "
        "(a different source: a deliberate distribution shift)"
        if shifted
        else "members and non-members are passages drawn at random from the same Python language reference topics"
    )
    return {
        "policy_version": 1,
        "system": {
            "name": "Python documentation assistant" + (" (shifted audit set)" if shifted else ""),
            "owner": "Developer Experience ML",
            "version": "0.1.0",
            "assessment_type": "pre-deployment",
            "description": (
                "A small causal language model trained on passages of the Python documentation, to complete "
                f"documentation text in an editor plug-in. Audit set: {source}."
            ),
            "purpose": "Suggest documentation text as the writer types.",
            "controller": "Example Software Foundation",
            "contact": "privacy-office@example.org",
        },
        "model": {
            "task": "text-generation",
            "format": "huggingface",
            "artifact": f"{FILES['target']}/",
            "reference": {"format": "huggingface", "artifact": f"{FILES['reference']}/"},
        },
        "data": {
            "members": FILES["members"],
            "non_members": FILES["non_members"],
            "population": FILES["population"],
            "id_column": "id",
            "text_column": "text",
            "categories": ["ordinary_personal"],
            "data_subjects": sizes.members,
            "description": (
                "Paragraphs of CPython's documentation (pydoc_data.topics"
                + (", and standard-library docstrings" if shifted else "")
                + "), PSF licence, shipped with Python; a stand-in for texts people wrote, such as support "
                "messages, so that the demo needs no personal data."
            ),
        },
        "exposure": {"outputs": "top_k_logprobs", "top_k": 5, "access": "public"},
        "seed": seed,
        "signoff": {"assessor": "Privacy Engineering (demo)", "next_review": "2027-05-31"},
        "report": {"organisation": "Example Software Foundation"},
    }


def _split(seed: int, shifted: bool, sizes: DemoSizes) -> dict[str, list[tuple[str, str, str]]]:
    """(id, text, source) rows per role: members, non-members and population drawn at random from one corpus."""
    docs = builtin_corpus("python-docs")
    need = sizes.members + (0 if shifted else sizes.non_members)
    if need >= len(docs):
        raise ValueError(f"the built-in corpus has {len(docs)} passages; {need} audited passages leave no population")
    order = rng(seed, "text-demo", "split").permutation(len(docs))
    rows = [(docs[i][0], docs[i][1], "python-docs") for i in order]
    members = rows[: sizes.members]
    if shifted:
        other = builtin_corpus("python-docstrings")
        pick = rng(seed, "text-demo", "shifted").permutation(len(other))[: sizes.non_members]
        non_members = [(other[i][0], other[i][1], "python-docstrings") for i in pick]
        population = rows[sizes.members :]
    else:
        non_members = rows[sizes.members : sizes.members + sizes.non_members]
        population = rows[sizes.members + sizes.non_members :]
    return {"members": members, "non_members": non_members, "population": population}


def _write_jsonl(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for text_id, text, source in rows:
            record = {"id": text_id, "text": text, "source": source, "document": document_of(text_id)}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def build_text_demo(
    folder: Path,
    *,
    shifted: bool = False,
    seed: int = 0,
    log: Callable[[str], None] = print,
    sizes: DemoSizes | None = None,
) -> Path:
    """Write the text demo into ``folder`` and return the path of its policy.

    Writes members.jsonl, non_members.jsonl, population.jsonl (``id``,
    ``text``, ``source``, ``document``), target-lm/ (trained on the members),
    reference-lm/ (the same architecture trained on the population only, for
    the calibration attack) and policy.yaml. Everything is built in a
    temporary directory and moved into place, so an interrupted build never
    leaves a half-written demo. ``sizes`` defaults to :class:`DemoSizes`.
    """
    import time

    import yaml

    from compliance_mia.language.tiny_lm import train_causal_lm

    sizes = sizes or DemoSizes()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    split = _split(seed, shifted, sizes)
    every_text = [t for _, t in builtin_corpus("python-docs")] + [t for _, t in builtin_corpus("python-docstrings")]
    common = {"n_embd": sizes.n_embd, "n_layer": sizes.n_layer, "n_head": sizes.n_head, "max_tokens": sizes.max_tokens}
    with tempfile.TemporaryDirectory(dir=folder, prefix=".building-") as tmp:
        work = Path(tmp)
        for role in ("members", "non_members", "population"):
            _write_jsonl(work / FILES[role], split[role])
        started = time.monotonic()
        log(f"training the target language model on {len(split['members'])} member passages ...")
        train_causal_lm(
            [t for _, t, _ in split["members"]], work / FILES["target"], seed=int_seed(seed, "text-demo", "target"),
            epochs=sizes.epochs, tokenizer_texts=every_text, vocab_size=sizes.vocab_size, **common,
        )
        # the reference sees as many passages as the target, all from the population (never an audited one)
        reference_texts = [t for _, t, _ in split["population"]][: sizes.members]
        log(f"training the reference language model on {len(reference_texts)} population passages ...")
        train_causal_lm(
            reference_texts, work / FILES["reference"],
            seed=int_seed(seed, "text-demo", "reference"), epochs=sizes.reference_epochs,
            tokenizer_from=work / FILES["target"], **common,
        )
        log(f"trained both models in {time.monotonic() - started:.0f} s")
        policy = text_demo_policy(shifted=shifted, seed=seed, sizes=sizes)
        header = (
            "# compliance-mia example policy for a language model, written by `compliance-mia demo --kind text`.\n"
            "# target-lm/ was trained on members.jsonl only; non_members.jsonl was held out"
            + (" (from a different source: shifted).\n" if shifted else " (same documents, no shift).\n")
            + "#   compliance-mia validate policy.yaml && compliance-mia run policy.yaml --out report/\n"
        )
        (work / "policy.yaml").write_text(header + yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
        for name in [*FILES.values(), "policy.yaml"]:
            target = folder / name
            if target.is_dir():  # a demo built here before: replaced whole
                shutil.rmtree(target)
            os.replace(work / name, target)
    return folder / "policy.yaml"
