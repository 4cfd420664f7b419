"""A deployed prediction API, queried over HTTP(S) the way an outside caller would.

The policy says where records go in the request (a JSON template with
``"$records"``), how each record is written (a ``{feature: value}`` object or
a list in feature order) and where the answers come back (dotted JSON paths,
``*`` stepping into each item of a list). Records are sent in batches.

Production APIs fail in ordinary ways, and an assessment must neither give up
at the first hiccup nor hammer a service: failed requests (5xx, 429, timeouts,
dropped connections) are retried with exponential backoff, honouring the
server's ``Retry-After``; an optional client-side rate limit spaces requests
out; and a total query budget stops the assessment *before* a batch that
would exceed it. Every record, request, retry and second spent is counted
(:meth:`HttpTarget.query_cost`) so the Assessment can state what the audit
cost the service.

The credential is read from the environment variable the policy names. It is
held only in the HTTP client's headers and in a redaction guard: it never
appears in a log line, an exception, a repr or anything written to disk, and
error text from the HTTP stack is scrubbed before it is shown.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from compliance_mia.errors import TargetError
from compliance_mia.policy.schema import HttpTargetSpec
from compliance_mia.targets.base import RawOutputs, Target, class_index, probability_problem

log = logging.getLogger(__name__)

__all__ = ["HttpTarget", "QueryCost", "resolve_path"]

#: longest wait (seconds) a Retry-After may ask for before the run stops instead of sleeping
MAX_RETRY_WAIT = 300.0
_RECORDS = "$records"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class QueryCost:
    """What querying the API has cost so far."""

    records: int = 0  #: records answered by the API
    requests: int = 0  #: HTTP requests sent, including failed and retried ones
    retries: int = 0  #: requests repeated after a failure
    failures: int = 0  #: requests that failed (5xx, 429, timeout, connection error)
    seconds: float = 0.0  #: time spent waiting for the API to answer
    backoff_seconds: float = 0.0  #: time spent waiting before retries
    throttle_seconds: float = 0.0  #: time spent honouring the client-side rate limit


class _Secret:
    """A credential that refuses to be shown: repr, str and pickling reveal nothing."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("credentials cannot be pickled")


def resolve_path(document: Any, path: str) -> Any:
    """Follow a dotted JSON path: keys, list indices, and ``*`` for every item of a list.

    >>> resolve_path({"results": [{"p": [0.1, 0.9]}, {"p": [0.8, 0.2]}]}, "results.*.p")
    [[0.1, 0.9], [0.8, 0.2]]

    Raises ``KeyError`` with a message naming the missing step and what was
    there instead (keys only, never values).
    """
    parts = [p for p in path.split(".") if p != ""]

    def walk(node: Any, rest: list[str], done: str) -> Any:
        if not rest:
            return node
        step, tail = rest[0], rest[1:]
        here = f"{done}.{step}" if done else step
        if step == "*":
            if not isinstance(node, list):
                raise KeyError(f"'{done or '(top)'}' is not a list, so '*' cannot step into it")
            return [walk(item, tail, here) for item in node]
        if isinstance(node, dict):
            if step not in node:
                keys = ", ".join(repr(k) for k in list(node)[:12]) or "none"
                raise KeyError(f"no key '{step}' at '{done or '(top)'}' (keys there: {keys})")
            return walk(node[step], tail, here)
        if isinstance(node, list) and step.lstrip("-").isdigit():
            index = int(step)
            if not -len(node) <= index < len(node):
                raise KeyError(f"index {index} is outside the list at '{done or '(top)'}'")
            return walk(node[index], tail, here)
        kind = type(node).__name__
        raise KeyError(f"cannot take '{step}' from a {kind} at '{done or '(top)'}'")

    return walk(document, parts, "")


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _substitute(template: Any, batch: list) -> Any:
    if template == _RECORDS:
        return batch
    if isinstance(template, dict):
        return {k: _substitute(v, batch) for k, v in template.items()}
    if isinstance(template, list):
        return [_substitute(v, batch) for v in template]
    return template


def _mentions_records(template: Any) -> bool:
    if template == _RECORDS:
        return True
    if isinstance(template, dict):
        return any(_mentions_records(v) for v in template.values())
    if isinstance(template, list):
        return any(_mentions_records(v) for v in template)
    return False


class HttpTarget(Target):
    """A model behind an HTTP(S) prediction API (a black box for reference models).

    Parameters
    ----------
    spec
        The policy's ``model.http`` section.
    classes
        Class labels in the order of the API's probability lists (``model.classes``).
    sleep, clock
        Injected for tests; default :func:`time.sleep` and :func:`time.monotonic`.
    transport
        Optional ``httpx`` transport (tests); the default talks to the network.
    """

    kind = "http"
    budget_source = "model.http.query_budget"

    def __init__(
        self,
        spec: HttpTargetSpec,
        *,
        classes: list | None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        transport: Any = None,
    ) -> None:
        super().__init__()
        import httpx

        self.spec = spec
        self.query_budget = spec.query_budget
        self._sleep = sleep
        self._clock = clock
        self.cost = QueryCost()
        self._lost = 0  # records answered during a call that then failed (still spent)
        self._next_request_at = 0.0
        parts = urlsplit(spec.url)
        if parts.username or parts.password:
            raise TargetError(
                "model.http.url contains a user name or password; put the credential in an "
                "environment variable and name it under model.http.auth_env"
            )
        port = f":{parts.port}" if parts.port else ""
        self._origin = f"{parts.scheme}://{parts.hostname}{port}"
        self._loopback = parts.hostname in _LOOPBACK
        if not classes:
            raise TargetError(
                "model.classes is needed for an HTTP target: list the class labels in the order "
                "of the API's probability outputs"
            )
        self._classes = np.asarray(classes)
        if spec.probabilities_path is None and spec.label_path is None:
            raise TargetError(
                "model.http needs probabilities_path or label_path: where in the API's JSON "
                "answer the probabilities or the predicted labels are"
            )
        if not _mentions_records(spec.request_template):
            raise TargetError(
                "model.http.request_template must contain the string '$records' where the batch "
                "of records goes, e.g. {instances: $records}"
            )
        self._secret: _Secret | None = None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if spec.auth_env is not None:
            value = os.environ.get(spec.auth_env)
            if value is None or not value.strip():
                raise TargetError(
                    f"model.http.auth_env names the environment variable {spec.auth_env}, which is "
                    "not set or empty; set it to the API credential before running (its value is "
                    "never written anywhere)"
                )
            value = value.strip()
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
                raise TargetError(
                    f"the credential in {spec.auth_env} contains control characters (a line "
                    "break?) and cannot be sent as an HTTP header"
                )
            self._secret = _Secret(value)
            headers[spec.auth_header] = f"{spec.auth_scheme} {value}" if spec.auth_scheme else value
        self._warnings: list[str] = []
        if not spec.verify_tls:
            self._warnings.append(
                f"TLS certificate verification was turned off for the prediction API at "
                f"{self._origin} (model.http.verify_tls: false)"
            )
        if parts.scheme == "http" and self._secret is not None and not self._loopback:
            self._warnings.append(
                f"the API credential was sent to {self._origin} over plain HTTP, unencrypted"
            )
        for text in self._warnings:
            log.warning("%s", text)
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(spec.timeout_seconds),
            verify=spec.verify_tls,
            follow_redirects=False,
            transport=transport,
        )

    def __repr__(self) -> str:
        auth = f", auth_env={self.spec.auth_env!r}" if self.spec.auth_env else ""
        return f"HttpTarget({self._origin}{auth})"

    # ------------------------------------------------------------ properties
    @property
    def classes(self) -> np.ndarray:
        return self._classes

    @property
    def estimator_name(self) -> str:
        return f"black box (prediction API at {self._origin})"

    def assessment_warnings(self) -> list[str]:
        return list(self._warnings)

    def remaining_budget(self) -> int | None:
        if self.query_budget is None:
            return None
        return max(self.query_budget - self.queries - self._lost, 0)

    def query_cost(self) -> dict[str, float]:
        cost = asdict(self.cost)
        return {k: round(float(v), 3) for k, v in cost.items()}

    def close(self) -> None:
        self._client.close()

    # ---------------------------------------------------------------- helpers
    def _redact(self, text: str) -> str:
        if self._secret is not None:
            text = text.replace(self._secret.reveal(), "<redacted>")
        return text

    def _records(self, X: pd.DataFrame) -> list:
        values = X.astype(object).where(X.notna(), None)
        if self.spec.records_as == "lists":
            return values.to_numpy().tolist()
        columns = [str(c) for c in X.columns]
        return [dict(zip(columns, row, strict=True)) for row in values.to_numpy().tolist()]

    def _throttle(self) -> None:
        rate = self.spec.rate_limit_per_second
        if rate is None:
            return
        now = self._clock()
        if self._next_request_at > now:
            wait = self._next_request_at - now
            self._sleep(wait)
            self.cost.throttle_seconds += wait
            now = self._next_request_at
        self._next_request_at = now + 1.0 / rate

    def _send(self, body: bytes, n_records: int) -> Any:
        """POST one batch, retrying transient failures; returns the decoded JSON answer."""
        import httpx

        spec = self.spec
        attempt = 0
        while True:
            self._throttle()
            started = self._clock()
            retry_after: float | None = None
            try:
                response = self._client.request(spec.method, spec.url, content=body)
            except httpx.TimeoutException:
                problem = f"no answer within {spec.timeout_seconds:g} s (timeout)"
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__}: {self._redact(str(exc))})"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    self.cost.requests += 1
                    self.cost.seconds += self._clock() - started
                    try:
                        return response.json()
                    except ValueError:
                        raise TargetError(
                            f"the prediction API at {self._origin} answered {status} but the "
                            "body is not JSON"
                        ) from None
                    except RecursionError:  # a hostile or broken server nesting thousands of levels
                        raise TargetError(
                            f"the prediction API at {self._origin} answered {status} with JSON nested too "
                            "deeply to read"
                        ) from None
                if status != 429 and status < 500:
                    self.cost.requests += 1
                    self.cost.failures += 1
                    raise TargetError(self._client_error(response))
                problem = f"answered {status} {response.reason_phrase}".rstrip()
                retry_after = _retry_after(response.headers.get("Retry-After"))
            self.cost.requests += 1
            self.cost.failures += 1
            self.cost.seconds += self._clock() - started
            if attempt >= spec.max_retries:
                raise TargetError(
                    f"the prediction API at {self._origin} failed {attempt + 1} time(s) in a row "
                    f"for a batch of {n_records} record(s); last: {problem}. Retries are set by "
                    "model.http.max_retries and backoff_seconds"
                )
            wait = retry_after if retry_after is not None else spec.backoff_seconds * (2**attempt)
            if wait > MAX_RETRY_WAIT:
                raise TargetError(
                    f"the prediction API at {self._origin} asked to wait {wait:.0f} s before "
                    f"retrying ({problem}); that is longer than {MAX_RETRY_WAIT:.0f} s, so the run "
                    "stops here. Try again later or agree a higher rate limit with the API owner"
                )
            attempt += 1
            log.warning(
                "prediction API at %s %s; retry %d of %d in %.2f s",
                self._origin, problem, attempt, spec.max_retries, wait,
            )
            if wait > 0:
                self._sleep(wait)
            self.cost.backoff_seconds += wait
            self.cost.retries += 1

    def _client_error(self, response: Any) -> str:
        status = response.status_code
        text = f"the prediction API at {self._origin} refused the request: {status} "
        text += f"{response.reason_phrase}".rstrip()
        if status in (401, 403):
            where = (
                f"the credential in the environment variable {self.spec.auth_env}"
                if self.spec.auth_env
                else "a credential (set model.http.auth_env)"
            )
            text += f"; check {where} and model.http.auth_header/auth_scheme"
        elif status in (404, 405):
            text += "; check model.http.url and model.http.method"
        elif 300 <= status < 400:
            text += "; the API redirects: put the final address in model.http.url"
        else:
            text += (
                "; check model.http.request_template and records_as, and that "
                "data.feature_columns are the inputs the API expects"
            )
        return text

    def _parse(self, answer: Any, n: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        spec = self.spec
        proba = labels = None
        if spec.probabilities_path is not None:
            items = self._lookup(answer, spec.probabilities_path, "probabilities_path", n)
            proba = self._probabilities(items)
        if spec.label_path is not None:
            items = self._lookup(answer, spec.label_path, "label_path", n)
            labels = class_index(self._classes, np.asarray(items, dtype=object))
            if (labels < 0).any():
                bad = items[int(np.flatnonzero(labels < 0)[0])]
                raise TargetError(
                    f"the prediction API returned label {str(bad)[:40]!r}, which is not one of "
                    f"model.classes ({', '.join(map(str, self._classes.tolist()))})"
                )
        return proba, labels

    def _lookup(self, answer: Any, path: str, field: str, n: int) -> list:
        try:
            items = resolve_path(answer, path)
        except KeyError as exc:
            raise TargetError(
                f"model.http.{field} '{path}' does not match the API's answer: {exc.args[0]}"
            ) from None
        if not isinstance(items, list) or len(items) != n:
            got = (
                f"{len(items)} item(s)" if isinstance(items, list) else f"a {type(items).__name__}"
            )
            raise TargetError(
                f"model.http.{field} '{path}' gave {got} for a batch of {n} record(s); it must "
                "point at a list with one entry per record"
            )
        return items

    def _where(self) -> str:
        path = urlsplit(self.spec.url).path or "/"
        where = f"model.http.probabilities_path '{self.spec.probabilities_path}'"
        return f"the prediction API at {self._origin}{path}, {where}"

    def _probabilities(self, items: list) -> np.ndarray:
        k = len(self._classes)
        names = ", ".join(map(str, self._classes.tolist()))
        position = {str(c): i for i, c in enumerate(self._classes.tolist())}
        out = np.empty((len(items), k), dtype=float)
        expected = (
            f"expected a list of {k} numbers in [0, 1] summing to 1 (one per class in model.classes: {names}) "
            "or a {class: probability} object"
        )
        for row, item in enumerate(items):
            if isinstance(item, dict):
                if set(map(str, item)) != set(position):
                    raise TargetError(
                        f"{self._where()}: entry {row} of the batch is keyed by "
                        f"{', '.join(map(str, item))}, not by model.classes ({names})"
                    )
                values = [(position[str(key)], value) for key, value in item.items()]
            elif isinstance(item, list):
                if len(item) != k:
                    raise TargetError(
                        f"{self._where()}: entry {row} of the batch has {len(item)} value(s) but model.classes "
                        f"has {k} class(es); {expected}"
                    )
                values = list(enumerate(item))
            else:
                raise TargetError(
                    f"{self._where()}: entry {row} of the batch is a {_json_type(item)}; {expected}"
                )
            for col, value in values:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise TargetError(
                        f"{self._where()}: entry {row} of the batch holds a {_json_type(value)} where a number "
                        f"is expected (numbers sent as strings are not accepted); {expected}"
                    )
                out[row, col] = value
        bad = probability_problem(out)
        if bad is not None:
            row, why = bad
            raise TargetError(f"{self._where()}: entry {row} of the batch {why}; {expected}")
        return out

    # --------------------------------------------------------------- queries
    def _raw(self, X: pd.DataFrame, ids: np.ndarray) -> RawOutputs:
        records = self._records(X)
        size = self.spec.batch_size
        probas: list[np.ndarray] = []
        labels: list[np.ndarray] = []
        answered = 0
        try:
            for start in range(0, len(records), size):
                batch = records[start : start + size]
                self.ensure_budget(answered + len(batch), "this batch")
                body = json.dumps(
                    _substitute(self.spec.request_template, batch), allow_nan=False
                ).encode("utf-8")
                answer = self._send(body, len(batch))
                proba, label = self._parse(answer, len(batch))
                answered += len(batch)
                self.cost.records += len(batch)
                if proba is not None:
                    probas.append(proba)
                if label is not None:
                    labels.append(label)
        except BaseException:
            self._lost += answered
            raise
        log.info(
            "prediction API at %s answered %d record(s); %d request(s), %d retried so far",
            self._origin, answered, self.cost.requests, self.cost.retries,
        )
        proba_all = np.concatenate(probas) if probas else None
        label_all = np.concatenate(labels) if labels else None
        if proba_all is None and label_all is None:  # no records asked
            proba_all = np.zeros((0, len(self._classes)))
        if label_all is None and proba_all is not None:
            label_all = proba_all.argmax(axis=1)
        return RawOutputs(probabilities=proba_all, labels=label_all)
