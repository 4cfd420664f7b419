"""Fixtures for the target adapters: one demo model, its files, and a real loopback API.

The demo files come from policies/examples/make_examples.py (the same script
that builds the committed examples), written to a session temp directory.
:class:`FakeApi` is a real HTTP server on 127.0.0.1 (``ThreadingHTTPServer``
in a thread) serving the demo model; tests script faults into it (5xx,
429 with Retry-After, slow answers that time out, dropped connections) and
read back every request's headers.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

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
class Fault:
    """One scripted misbehaviour, consumed by the next request."""

    status: int | None = None  #: answer with this status (e.g. 500, 429)
    retry_after: str | None = None  #: Retry-After header value
    delay: float = 0.0  #: seconds before answering (beyond the client's timeout: a timeout)
    drop: bool = False  #: close the connection without answering


@dataclass
class Seen:
    """What the server received in one request."""

    path: str
    headers: dict[str, str]
    n_records: int
    at: float


@dataclass
class FakeApi:
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
    token: str | None = None
    layout: str = "flat"
    records_key: str = "instances"
    faults: deque = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)
    answered_records: int = 0

    def start(self) -> FakeApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                    records = body
                    for key in api.records_key.split("."):
                        records = records[key]
                except (ValueError, KeyError, TypeError):
                    return self._reply(400, {"error": "bad body"})
                headers = dict(self.headers.items())
                api.seen.append(Seen(self.path, headers, len(records), time.monotonic()))
                fault = api.faults.popleft() if api.faults else None
                if fault is not None and fault.delay:
                    time.sleep(fault.delay)
                if fault is not None and fault.drop:
                    self.close_connection = True
                    return None
                if fault is not None and fault.status is not None:
                    extra = {} if fault.retry_after is None else {"Retry-After": fault.retry_after}
                    return self._reply(fault.status, {"error": "injected"}, extra)
                expected = f"Bearer {api.token}"
                if api.token is not None and self.headers.get("Authorization") != expected:
                    return self._reply(401, {"error": "unauthorised"})
                if records and isinstance(records[0], list):
                    frame = pd.DataFrame(records, columns=api.features)
                else:
                    frame = pd.DataFrame(records)[api.features]
                proba = api.model.predict_proba(frame)
                classes = [c.item() if hasattr(c, "item") else c for c in api.model.classes_]
                labels = [classes[i] for i in proba.argmax(axis=1)]
                names = [str(c) for c in classes]
                if api.layout == "flat":
                    payload: dict = {"predictions": proba.tolist(), "labels": labels}
                elif api.layout == "demo":  # the shape make_examples.py serves
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
                api.answered_records += len(records)
                return self._reply(200, payload)

            def _reply(self, status: int, payload: dict, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout test)
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1/predict"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api(demo: Demo) -> FakeApi:
    server = FakeApi(demo.model, demo.features).start()
    yield server
    server.stop()


@pytest.fixture
def fault() -> type[Fault]:
    """The :class:`Fault` class, for scripting the fake API (tests cannot import conftest)."""
    return Fault


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """(environment variable name, value) of a test API key, set in the environment."""
    monkeypatch.setenv(API_KEY_ENV, SECRET)
    return API_KEY_ENV, SECRET


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
