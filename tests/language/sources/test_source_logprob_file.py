"""The JSONL log-probability file: exact ids, located errors, nothing non-finite read as a number."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from compliance_mia.errors import TargetError
from compliance_mia.language.logprob_file import LogprobFileLM, write_logprob_file
from compliance_mia.language.logprobs import TokenScores

GOOD = {"id": "note-1", "token_logprobs": [-1.5, -0.25, -3.0], "top_logprobs": [[-0.5, -1.5], [-0.25, -2.0],
                                                                             [-0.75, -3.0]]}


def write(path: Path, *lines: object) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


def test_reads_scores_by_id_with_top_k_columns(tmp_path: Path) -> None:
    f = write(tmp_path / "lp.jsonl", GOOD, "", {"id": 7, "token_logprobs": [None, -2.0], "top_logprobs": [None,
                                                                                                        [-1, -2]]})
    lm = LogprobFileLM(f, ids=["note-1", "7"])
    a, b = lm.score_ids(["7", "note-1"], top_k=1)
    np.testing.assert_array_equal(b.logprobs, [-1.5, -0.25, -3.0])
    np.testing.assert_array_equal(b.top_logprobs, [[-0.5], [-0.25], [-0.75]])
    np.testing.assert_array_equal(a.logprobs, [-2.0])  # the leading null (no context) is dropped
    assert lm.score_ids(["note-1"])[0].top_logprobs is None
    assert lm.ids == ["note-1", "7"] and lm.queries == 3


def test_ids_are_compared_byte_for_byte(tmp_path: Path) -> None:
    nfc = unicodedata.normalize("NFC", "café")
    nfd = unicodedata.normalize("NFD", "café")
    f = write(tmp_path / "lp.jsonl", {**GOOD, "id": "007"}, {**GOOD, "id": nfc}, {**GOOD, "id": " a"})
    lm = LogprobFileLM(f)
    assert lm.score_ids(["007", nfc, " a"])
    for near in ("7", nfd, "a", "A"):
        with pytest.raises(TargetError, match="1 audited text"):
            lm.score_ids([near])
    with pytest.raises(TargetError, match=r"2 audited text\(s\) have no line.*'x', 'y'"):
        LogprobFileLM(f, ids=["007", "x", "y"])


@pytest.mark.parametrize(
    ("line", "where", "what"),
    [
        ('{"id": "a", "token_logprobs": [-1, NaN]}', "token_logprobs[1]", "not finite"),
        ('{"id": "a", "token_logprobs": [-1, -Infinity]}', "token_logprobs[1]", "not finite"),
        ({"id": "a", "token_logprobs": [-1, 0.5]}, "token_logprobs[1]", "above 0"),
        ({"id": "a", "token_logprobs": ["-1"]}, "token_logprobs[0]", "is a string"),
        ({"id": "a", "token_logprobs": -1}, "token_logprobs", "not a list"),
        ({"token_logprobs": [-1]}, "id", "missing"),
        ({"id": 1.5, "token_logprobs": [-1]}, "id", "is a number"),
        ({"id": True, "token_logprobs": [-1]}, "id", "is a boolean"),
        ({"id": "a"}, "token_logprobs", "missing"),
        ({"id": "a", "token_logprobs": [-1], "text": "secret"}, "text", "not a recognised field"),
        ({"id": "a", "token_logprobs": [-1, -2], "top_logprobs": [[-1, -2]]}, "top_logprobs", "1 row"),
        ({"id": "a", "token_logprobs": [-1], "top_logprobs": [[-2, -1]]}, "top_logprobs[0]", "descending"),
        ({"id": "a", "token_logprobs": [-1, -1], "top_logprobs": [[-1, -2], [-1]]}, "top_logprobs", "lengths"),
        ('{"id": "a", "token_logprobs": [-1,', "", "not valid JSON"),
        ('["a", -1]', "", "not an object"),
    ],
)
def test_problems_are_located(tmp_path: Path, line: object, where: str, what: str) -> None:
    f = write(tmp_path / "owner.jsonl", GOOD, line)
    with pytest.raises(TargetError) as info:
        LogprobFileLM(f)
    message = str(info.value)
    located = f"owner.jsonl:2: {where}: " if where else "owner.jsonl:2: "
    assert located in message and what in message, message
    assert "Traceback" not in message


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    f = write(tmp_path / "lp.jsonl", GOOD, {**GOOD, "id": "other"}, GOOD)
    with pytest.raises(TargetError, match=r"lp\.jsonl:3: id: repeats the id on line 1"):
        LogprobFileLM(f)


def test_several_problems_are_listed_together(tmp_path: Path) -> None:
    f = write(tmp_path / "lp.jsonl", {"id": "a"}, {"id": "b", "token_logprobs": [1]}, GOOD)
    with pytest.raises(TargetError) as info:
        LogprobFileLM(f)
    assert "lp.jsonl:1: token_logprobs" in str(info.value) and "lp.jsonl:2: token_logprobs[0]" in str(info.value)


def test_empty_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="does not exist"):
        LogprobFileLM(tmp_path / "absent.jsonl")
    with pytest.raises(TargetError, match="holds no lines"):
        LogprobFileLM(write(tmp_path / "empty.jsonl", ""))
    (tmp_path / "bin.jsonl").write_bytes(b'{"id": "\xff"}\n')
    with pytest.raises(TargetError, match=r"bin\.jsonl:1: is not UTF-8"):
        LogprobFileLM(tmp_path / "bin.jsonl")


def test_top_k_beyond_the_file_and_what_a_file_cannot_do(tmp_path: Path) -> None:
    lm = LogprobFileLM(write(tmp_path / "lp.jsonl", GOOD, {"id": "plain", "token_logprobs": [-1.0]}))
    with pytest.raises(TargetError, match="top_logprobs with 2 value.*top 5"):
        lm.score_ids(["note-1"], top_k=5)
    with pytest.raises(TargetError, match="has no top_logprobs"):
        lm.score_ids(["plain"], top_k=1)
    with pytest.raises(TargetError, match="cannot generate text"):
        lm.generate(["a"], max_new_tokens=3)
    with pytest.raises(TargetError, match="by id"):
        lm.score(["a text"])


def test_written_files_read_back_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    scores = [TokenScores(-rng.random(n) * 5, -np.sort(rng.random((n, 3)), axis=1)) for n in (1, 4, 0)]
    path = write_logprob_file(tmp_path / "w.jsonl", ["a", "b", "c"], scores)
    back = LogprobFileLM(path).score_ids(["a", "b", "c"], top_k=3)
    for s, b in zip(scores, back, strict=True):
        np.testing.assert_array_equal(s.logprobs, b.logprobs)
        np.testing.assert_array_equal(s.top_logprobs, b.top_logprobs)
