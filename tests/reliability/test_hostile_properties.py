"""Property-based: random policies and random data files never escape as anything but a located input error."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance_mia.controls import load_catalogue
from compliance_mia.data import load_audit_data
from compliance_mia.errors import CatalogueError, DataError, PolicyError
from compliance_mia.policy import load_policy
from compliance_mia.policy.schema import DataSpec
from compliance_mia.text import neutralise

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

chars = st.characters(blacklist_categories=("Cs",))
text = st.text(chars, max_size=12)
POLICY_KEYS = ["system", "model", "data", "exposure", "attacks", "statistics", "seed", "regulations", "name",
               "format", "artifact", "members", "id_column", "outputs", "access", "categories", "risk_appetite"]
keys = st.one_of(st.sampled_from(POLICY_KEYS), text)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True), text,
    st.sampled_from(["skops", "probabilities", "public", "health", "members.csv", "$records", "\u202e"]),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=25,
)


def _write(text_: str, name: str = "policy.yaml") -> Path:
    directory = Path(tempfile.mkdtemp(prefix="cmia-prop-"))
    path = directory / name
    path.write_text(text_, encoding="utf-8")
    return path


@SETTINGS
@given(st.dictionaries(keys, documents, max_size=8))
def test_random_policy_mappings_raise_only_policy_errors(doc: dict) -> None:
    path = _write(yaml.safe_dump(doc, allow_unicode=True))
    try:
        load_policy(path)
    except PolicyError:
        pass


@SETTINGS
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_random_text_as_policy_raises_only_policy_errors(raw: str) -> None:
    try:
        load_policy(_write(raw))
    except PolicyError:
        pass


@SETTINGS
@given(st.dictionaries(keys, documents, max_size=6))
def test_random_catalogues_raise_only_catalogue_errors(doc: dict) -> None:
    path = _write(yaml.safe_dump(doc, allow_unicode=True), "controls.yaml")
    try:
        load_catalogue(path)
    except CatalogueError:
        pass


ids = st.text(chars, min_size=0, max_size=10).filter(lambda s: not s.startswith("nm-"))
cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), 10**6),
    st.sampled_from(["", "NA", "x", "1e999", "-inf", " 3 ", "0001"]),
)


@st.composite
def member_frames(draw) -> pd.DataFrame:
    n = draw(st.integers(18, 26))
    id_values = draw(st.lists(ids, min_size=n, max_size=n, unique=True))
    labels = draw(st.lists(st.sampled_from(["a", "b", "0", "1", "N", "", "yes"]), min_size=n, max_size=n))
    column = draw(st.lists(cell, min_size=n, max_size=n))
    gen = np.random.default_rng(draw(st.integers(0, 1000)))
    return pd.DataFrame({"rid": id_values, "f1": gen.normal(size=n), "f2": column, "y": labels})


@SETTINGS
@given(member_frames(), st.sampled_from(["csv", "tsv", "parquet"]))
def test_random_data_raises_only_data_errors_and_ids_round_trip(members: pd.DataFrame, fmt: str) -> None:
    directory = Path(tempfile.mkdtemp(prefix="cmia-prop-"))
    gen = np.random.default_rng(0)
    non_members = pd.DataFrame(
        {"rid": [f"nm-{i:04d}" for i in range(30)], "f1": gen.normal(size=30), "f2": gen.normal(size=30),
         "y": gen.choice(["a", "b"], 30)}
    )
    paths = []
    for name, records in (("members", members), ("non_members", non_members)):
        path = directory / f"{name}.{fmt}"
        if fmt == "parquet":
            records.astype({"f2": str}).to_parquet(path)
        else:
            records.to_csv(path, sep="\t" if fmt == "tsv" else ",", index=False)
        paths.append(path)
    spec = DataSpec(members=paths[0], non_members=paths[1], id_column="rid", label_column="y",
                    categories=["health"], data_subjects=30)
    try:
        data = load_audit_data(spec, seed=0, need_population=False)
    except DataError:
        return
    assert list(data.members.ids) == [neutralise(i) for i in members["rid"]]


odd_ids = st.one_of(
    st.text(chars, min_size=1, max_size=10),
    st.integers(0, 10**6).map(lambda i: f"{i:08d}"),
    st.sampled_from([" 7", "7 ", "1e3", "NA", "nan", "None", "-0", "a,b", 'q"q', "l\nl", "\ufeffx", "\u202ey"]),
).filter(lambda s: not s.startswith("nm-"))


@SETTINGS
@given(st.lists(odd_ids, min_size=20, max_size=26, unique=True), st.sampled_from(["csv", "tsv", "parquet"]))
def test_odd_ids_round_trip_byte_for_byte(id_values: list[str], fmt: str) -> None:
    directory = Path(tempfile.mkdtemp(prefix="cmia-prop-"))
    n = len(id_values)
    gen = np.random.default_rng(n)
    members = pd.DataFrame({"rid": id_values, "f1": gen.normal(size=n), "y": gen.choice(["a", "b"], n)})
    non_members = pd.DataFrame(
        {"rid": [f"nm-{i:04d}" for i in range(30)], "f1": gen.normal(size=30), "y": gen.choice(["a", "b"], 30)}
    )
    paths = []
    for name, records in (("members", members), ("non_members", non_members)):
        path = directory / f"{name}.{fmt}"
        if fmt == "parquet":
            records.to_parquet(path)
        else:
            # Quote every field: pandas leaves a bare carriage return unquoted, which any reader takes as a line end.
            records.to_csv(path, sep="\t" if fmt == "tsv" else ",", index=False, quoting=csv.QUOTE_ALL)
        paths.append(path)
    spec = DataSpec(members=paths[0], non_members=paths[1], id_column="rid", label_column="y",
                    categories=["health"], data_subjects=30)
    data = load_audit_data(spec, seed=0, need_population=False)
    assert list(data.members.ids) == [neutralise(i) for i in id_values]
