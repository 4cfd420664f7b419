"""Fixtures for the target adapters: one demo model, its files, and a real loopback API.

The demo files come from policies/examples/make_examples.py (the same script
that builds the committed examples), written to a session temp directory.
:class:`FakeApi` is a real HTTP server on 127.0.0.1 serving the demo model
(tests/_loopback.py, shared with the text targets' completions endpoint);
tests script faults into it (5xx, 429 with Retry-After, slow answers that
time out, dropped connections) and read back every request's headers.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
import yaml
from _loopback import LoopbackApi, close_opened, fault, secret_fixture  # noqa: F401 - fixtures shared with text targets

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "policies" / "examples"
SECRET = "sk-test-9f8e7d6c5b4a-DO-NOT-LEAK"  # the API key a test must never find in any output
API_KEY_ENV = "CMIA_TEST_API_KEY"


def load_make_examples() -> Any:
    """Import policies/examples/make_examples.py (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Demo:
    """The demo model in process, its files, and the audit records."""

    dir: Path
    files: dict[str, Path]
    model: Any
    features: list[str]
    members: pd.DataFrame
    non_members: pd.DataFrame
    population: pd.DataFrame

    @property
    def audit(self) -> pd.DataFrame:
        return pd.concat([self.members, self.non_members], ignore_index=True)

    @property
    def is_member(self) -> np.ndarray:
        return np.r_[np.ones(len(self.members), bool), np.zeros(len(self.non_members), bool)]


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    mk = load_make_examples()
    out = tmp_path_factory.mktemp("target-demo")
    files = mk.build(out)
    members, non_members, population, features = mk.demo_records()
    model = mk.train_demo_model(members, features)
    return Demo(out, files, model, features, members, non_members, population)


# ------------------------------------------------------------------ policies
def make_policy_file(directory: Path, model: dict, *, name: str = "policy.yaml", demo_dir: Path,
                     exposure: str = "probabilities", extra: dict | None = None) -> Path:
    """A complete policy on the demo records with the given ``model`` section."""
    policy: dict[str, Any] = {
        "system": {"name": "Tumour triage", "owner": "Oncology ML", "assessment_type": "ad-hoc"},
        "model": model,
        "data": {
            "members": str(demo_dir / "members.csv"),
            "non_members": str(demo_dir / "non_members.csv"),
            "population": str(demo_dir / "population.csv"),
            "id_column": "record_id",
            "label_column": "diagnosis",
            "categories": ["health"],
            "data_subjects": 200,
        },
        "exposure": {"outputs": exposure, "access": "authenticated"},
        "seed": 3,
        "attacks": {"reference_models": {"count": 2, "backend": "sequential"}},
        "statistics": {"bootstrap_resamples": 200},
    }
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(policy.get(key), dict):
            policy[key] = {**policy[key], **value}
        else:
            policy[key] = value
    path = directory / name
    path.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------- fake API
@dataclass
class FakeApi(LoopbackApi):
    """A prediction API on 127.0.0.1 serving ``model``, with scripted faults.

    ``layout`` picks the answer's shape: ``flat`` is
    ``{"predictions": [[p...]], "labels": [...]}``; ``nested`` is
    ``{"result": {"items": [{"probs": {class: p}, "label": ...}]}}``; ``demo``
    is ``{"predictions": [{"label": ..., "probabilities": {class: p}}]}``.
    Records are read from ``records_key`` (a dotted path into the body) and
    may be objects or lists.
    """

    model: Any
    features: list[str]
    layout: str = "flat"
    records_key: str = "instances"
    answered_records: int = 0

    path: ClassVar[str] = "/v1/predict"

    def _records(self, body: Any) -> list:
        records = body
        for key in self.records_key.split("."):
            records = records[key]
        return records

    def count(self, body: Any) -> int:
        return len(self._records(body))

    def answer(self, path: str, body: Any) -> tuple[int, dict]:
        records = self._records(body)
        if records and isinstance(records[0], list):
            frame = pd.DataFrame(records, columns=self.features)
        else:
            frame = pd.DataFrame(records)[self.features]
        proba = self.model.predict_proba(frame)
        classes = [c.item() if hasattr(c, "item") else c for c in self.model.classes_]
        labels = [classes[i] for i in proba.argmax(axis=1)]
        names = [str(c) for c in classes]
        if self.layout == "flat":
            payload: dict = {"predictions": proba.tolist(), "labels": labels}
        elif self.layout == "demo":  # the shape make_examples.py serves
            payload = {"predictions": [
                {"label": lab, "probabilities": dict(zip(names, row.tolist(), strict=True))}
                for row, lab in zip(proba, labels, strict=True)
            ]}
        else:
            items = [
                {"probs": dict(zip(names, row.tolist(), strict=True)), "label": lab}
                for row, lab in zip(proba, labels, strict=True)
            ]
            payload = {"result": {"items": items}, "model_version": "7"}
        self.answered_records += len(records)
        return 200, payload


@pytest.fixture
def api(demo: Demo) -> FakeApi:
    server = FakeApi(demo.model, demo.features).start()
    yield server
    server.stop()


secret = secret_fixture(API_KEY_ENV, SECRET)


@pytest.fixture(scope="session")
def write_policy(demo: Demo):
    """``write_policy(directory, model_section, **options)`` on the demo records."""

    def write(directory: Path, model: dict, **options: Any) -> Path:
        return make_policy_file(directory, model, demo_dir=demo.dir, **options)

    return write


@pytest.fixture(scope="module")
def module_api(demo: Demo) -> FakeApi:
    """A fake API shared by a module's tests (for tests that do not script faults)."""
    server = FakeApi(demo.model, demo.features).start()
    yield server
    server.stop()


@pytest.fixture
def api_factory(demo: Demo):
    """``api_factory(**options)`` starts a :class:`FakeApi` (stopped after the test)."""
    started: list[FakeApi] = []

    def start(**options: Any) -> FakeApi:
        server = FakeApi(demo.model, demo.features, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
