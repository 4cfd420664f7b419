"""Builders for hostile inputs: data files in tmp_path and a JSON API on 127.0.0.1.

Each module here covers one class of hostile or unusual input and asserts the
outcome the audit trail depends on: a refusal of the right kind, located by
file and line or column, with no record value in the message; or, for inputs
that used to be silently mis-read, the right value in what is loaded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from compliance_mia.policy.schema import DataSpec


def frame(n: int, start: int = 0, *, seed: int | None = None) -> pd.DataFrame:
    """``n`` records with rich (continuous) features, IDs ``p<start>`` on, labels ``a``/``b``."""
    gen = np.random.default_rng(start if seed is None else seed)
    return pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(start, start + n)],
            "age": gen.normal(50, 12, n).round(3),
            "bmi": gen.normal(25, 4, n).round(3),
            "dx": gen.choice(["a", "b"], n),
        }
    )


def spec(directory: Path, members: str = "m.csv", non_members: str = "n.csv", **kw: Any) -> DataSpec:
    base: dict[str, Any] = {
        "members": directory / members,
        "non_members": directory / non_members,
        "id_column": "id",
        "label_column": "dx",
        "categories": ["health"],
        "data_subjects": 100,
    }
    base.update(kw)
    return DataSpec(**base)


def write_pair(directory: Path, members: pd.DataFrame | None = None, non_members: pd.DataFrame | None = None) -> None:
    (frame(60) if members is None else members).to_csv(directory / "m.csv", index=False)
    (frame(60, start=1000) if non_members is None else non_members).to_csv(directory / "n.csv", index=False)


class JsonApi:
    """A prediction API on 127.0.0.1 answering every POST with ``answer(n_records)``.

    ``answer`` builds the JSON text (a string, so tests can send NaN or
    malformed documents exactly as a broken server would).
    """

    def __init__(self, answer: Callable[[int], str]) -> None:
        self.answer = answer
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                data = api.answer(len(body["instances"])).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1/predict"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


