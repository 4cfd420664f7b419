"""A real JSON API on 127.0.0.1 for the tests of remote targets, and what scripts it.

The tabular prediction API (``FakeApi`` in tests/targets/conftest.py) and the
OpenAI-compatible completions endpoint (``CompletionsApi`` in
tests/language/sources/conftest.py) are both reached through the one HTTP
client (compliance_mia/targets/httpclient.py) and differ only in what they
answer. :class:`LoopbackApi` is the part they share, so a fault is played and
a request recorded the same way for both: a ``ThreadingHTTPServer`` in a
daemon thread on a free port of 127.0.0.1 that reads each POSTed JSON body,
records it (:class:`Seen`), plays the next scripted :class:`Fault` (5xx, 429
with Retry-After, slow answers that time out, dropped connections), checks the
bearer token, and only then asks the subclass for the answer.

Also shared: :class:`Recorder` (a sleep that records its waits), :func:`opened`
with the autouse fixture :func:`close_opened` (targets a test opened are
closed after it), the ``fault`` fixture and :func:`secret_fixture`. A conftest
imports the fixtures it wants (tests cannot import a conftest).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Protocol, TypeVar

import pytest


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
    body: Any  #: the decoded JSON body
    n_records: int  #: records (or prompts) in the body
    at: float  #: time.monotonic() on arrival


@dataclass(kw_only=True)
class LoopbackApi:
    """A JSON service on 127.0.0.1 with scripted faults; subclasses say what a request holds and answer it.

    A request whose body :meth:`count` cannot read gets 400 and is not
    recorded. Otherwise it is recorded, then the next fault (if any) is
    played, then a request without ``Authorization: Bearer <token>`` gets 401
    (when :attr:`token` is set), and only then :meth:`answer` runs.
    """

    token: str | None = None  #: the bearer token required, or None for no check
    faults: deque = field(default_factory=deque)  #: faults to play, one per request
    seen: list[Seen] = field(default_factory=list)  #: every recorded request, in arrival order

    #: the URL path the service is reached at (what :attr:`url` ends with)
    path: ClassVar[str] = "/"

    def count(self, body: Any) -> int:
        """Records in a request body; raise ValueError, KeyError or TypeError if the body is not one."""
        raise NotImplementedError

    def answer(self, path: str, body: Any) -> tuple[int, dict]:
        """The status and JSON answer to an authorised request that no fault intercepted."""
        raise NotImplementedError

    def error(self, message: str) -> dict:
        """The body of an error answer (the service's own shape)."""
        return {"error": message}

    def _post(self, request: _Handler) -> None:
        raw = request.rfile.read(int(request.headers.get("Content-Length", "0")))
        try:
            body = json.loads(raw)
            n_records = self.count(body)
        except (ValueError, KeyError, TypeError):
            return request.reply(400, self.error("bad body"))
        self.seen.append(Seen(request.path, dict(request.headers.items()), body, n_records, time.monotonic()))
        fault = self.faults.popleft() if self.faults else None
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.drop:
            request.close_connection = True
            return None
        if fault is not None and fault.status is not None:
            extra = {} if fault.retry_after is None else {"Retry-After": fault.retry_after}
            return request.reply(fault.status, self.error("injected"), extra)
        if self.token is not None and request.headers.get("Authorization") != f"Bearer {self.token}":
            return request.reply(401, self.error("unauthorised"))
        return request.reply(*self.answer(request.path, body))

    def start(self) -> LoopbackApi:
        api = self

        class Handler(_Handler):
            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                api._post(self)

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
        return f"http://{host}:{port}{self.path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive, as a real API), JSON replies, no access log on stderr."""

    protocol_version = "HTTP/1.1"

    def reply(self, status: int, payload: dict, headers: dict | None = None) -> None:
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


class Recorder:
    """A sleep that records what it was asked to wait and sleeps a token amount."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(min(seconds, 0.01))


class _Closable(Protocol):
    def close(self) -> None: ...


T = TypeVar("T", bound=_Closable)
_OPENED: list[_Closable] = []


def opened(target: T) -> T:
    """``target``, to be closed after the test by :func:`close_opened` (its connections are not left open)."""
    _OPENED.append(target)
    return target


@pytest.fixture(autouse=True)
def close_opened():
    """Close every target the test passed to :func:`opened`."""
    yield
    while _OPENED:
        _OPENED.pop().close()


@pytest.fixture
def fault() -> type[Fault]:
    """The :class:`Fault` class, for scripting a loopback API (tests cannot import conftest)."""
    return Fault


def secret_fixture(env: str, value: str) -> Any:
    """A ``secret`` fixture: sets ``env`` to the test API key ``value`` and returns (env, value)."""

    @pytest.fixture
    def secret(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
        """(environment variable name, value) of a test API key, set in the environment."""
        monkeypatch.setenv(env, value)
        return env, value

    return secret
