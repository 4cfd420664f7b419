"""The text demo builder: a seeded split within the same documents (or a deliberate shift), two models, a policy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from compliance_mia.language.corpus import document_of
from compliance_mia.language.demo import QUICK, DemoSizes, _split, build_text_demo


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_split_is_random_within_the_same_documents() -> None:
    sizes = DemoSizes()
    split = _split(0, False, sizes)
    members, non_members, population = split["members"], split["non_members"], split["population"]
    assert (len(members), len(non_members)) == (sizes.members, sizes.non_members) and population
    ids = [r[0] for rows in split.values() for r in rows]
    assert len(ids) == len(set(ids))  # every passage in exactly one role
    assert {r[2] for r in members + non_members} == {"python-docs"}
    # the same documents on both sides: most documents that give members also give non-members
    member_docs = {document_of(r[0]) for r in members}
    non_docs = {document_of(r[0]) for r in non_members}
    assert len(member_docs & non_docs) / len(non_docs) > 0.6
    # and no length or other shape difference to speak of
    assert abs(np.mean([len(r[1]) for r in members]) - np.mean([len(r[1]) for r in non_members])) < 30
    assert _split(0, False, sizes) == split and _split(1, False, sizes) != split


def test_the_shifted_split_takes_non_members_from_another_source() -> None:
    split = _split(0, True, DemoSizes())
    assert {r[2] for r in split["members"]} == {"python-docs"}
    assert {r[2] for r in split["non_members"]} == {"python-docstrings"}
    assert {r[2] for r in split["population"]} == {"python-docs"}


def test_refuses_sizes_that_leave_no_population() -> None:
    with pytest.raises(ValueError, match="leave no population"):
        _split(0, False, DemoSizes(members=400, non_members=400))


def test_builds_models_data_and_policy(tmp_path: Path) -> None:
    from compliance_mia.language.hf import HuggingFaceLM

    said: list[str] = []
    policy_path = build_text_demo(tmp_path / "demo", seed=3, log=said.append, sizes=QUICK)
    folder = policy_path.parent
    assert policy_path.name == "policy.yaml" and any("trained both models" in s for s in said)
    assert not [p for p in folder.iterdir() if p.name.startswith(".building")]
    policy = yaml.safe_load(policy_path.read_text(encoding="utf-8"))
    assert policy["model"] == {"task": "text-generation", "format": "huggingface", "artifact": "target-lm/",
                               "reference": {"format": "huggingface", "artifact": "reference-lm/"}}
    assert policy["exposure"] == {"outputs": "top_k_logprobs", "top_k": 5, "access": "public"}
    assert policy["data"]["text_column"] == "text" and policy["data"]["id_column"] == "id"
    assert "label_column" not in policy["data"] and policy["seed"] == 3
    members, non_members = read(folder / "members.jsonl"), read(folder / "non_members.jsonl")
    population = read(folder / "population.jsonl")
    assert (len(members), len(non_members)) == (QUICK.members, QUICK.non_members)
    assert set(members[0]) == {"id", "text", "source", "document"}
    assert not {r["id"] for r in members} & ({r["id"] for r in non_members} | {r["id"] for r in population})
    for name in ("target-lm", "reference-lm"):
        assert (folder / name / "model.safetensors").is_file()
    target, reference = HuggingFaceLM(folder / "target-lm"), HuggingFaceLM(folder / "reference-lm")
    texts = [r["text"] for r in members + non_members]
    loss = np.array([s.logprobs.mean() for s in target.score(texts)])
    # the target saw the members: they are likelier to it than the held-out passages, and likelier
    # to it than to the reference, which never saw them
    assert loss[: len(members)].mean() > loss[len(members) :].mean()
    ref = np.array([s.logprobs.mean() for s in reference.score(texts)])
    assert (loss - ref)[: len(members)].mean() > (loss - ref)[len(members) :].mean()
