"""The HTTP client every remote target shares: retries, rate limit, cost accounting and secret handling.

Production APIs fail in ordinary ways, and an assessment must neither give up
at the first hiccup nor hammer a service: failed requests (5xx, 429, timeouts,
dropped connections) are retried with exponential backoff, honouring the
server's ``Retry-After``; an optional client-side rate limit spaces requests
out. Every request, retry and second spent is counted (:class:`QueryCost`) so
the Assessment can state what the audit cost the service, and a query budget
(:class:`QueryBudget`, which every :class:`~compliance_mia.targets.base.Target`
and the language-model endpoint keep) refuses a batch before it is sent.

The credential is read from the environment variable the policy names. It is
held only in the HTTP client's headers and in a :class:`Secret`: it never
appears in a log line, an exception, a repr or anything written to disk, and
error text from the HTTP stack is scrubbed before it is shown.

The tabular prediction API (:mod:`compliance_mia.targets.http`) and the
OpenAI-compatible language-model endpoint
(:mod:`compliance_mia.language.openai`) both send JSON through
:class:`JsonApiClient`; they differ only in what they put in the body and how
they read the answer. ``section`` (e.g. ``model.http``) and ``service``
(e.g. ``prediction API``) make the messages name the right policy fields.
"""

from __future__ import annotations

import email.utils
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from compliance_mia.errors import QueryBudgetExceeded, TargetError

log = logging.getLogger(__name__)

__all__ = ["MAX_RETRY_WAIT", "JsonApiClient", "QueryBudget", "QueryCost", "Secret", "json_type", "retry_after"]

#: longest wait (seconds) a Retry-After may ask for before the run stops instead of sleeping
MAX_RETRY_WAIT = 300.0
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

    def rounded(self) -> dict[str, float]:
        """The cost as the Assessment records it (3 decimals)."""
        return {k: round(float(v), 3) for k, v in asdict(self).items()}


class QueryBudget:
    """The most queries an assessment may send to a model, checked before each is sent.

    One check for every target, tabular (:class:`~compliance_mia.targets.base.Target`,
    counting records) or language model
    (:class:`~compliance_mia.language.openai.OpenAICompletionsLM`, counting
    texts), so that both refuse the same way: before anything is sent, so the
    planner or runner can ask in advance (:meth:`ensure_budget`) rather than
    stop half-way through an attack, and with a message naming the policy
    field to raise.

    A class using it counts what it sent in :attr:`queries` and, when it has a
    budget, sets :attr:`query_budget` (remote targets take it from the policy);
    :attr:`budget_source` names that policy field and :attr:`budget_unit` what
    one query is. A target that also spends queries outside :attr:`queries`
    (e.g. records answered in a call that then failed) overrides
    :meth:`remaining_budget`.
    """

    #: most queries the assessment may send (None: unlimited)
    query_budget: int | None = None
    #: where the budget comes from, for messages (e.g. "model.http.query_budget")
    budget_source: str = "the query budget"
    #: what one query is, for messages: "record" (a tabular model) or "text" (a language model)
    budget_unit: str = "record"
    #: queries sent to the model so far
    queries: int = 0

    def remaining_budget(self) -> int | None:
        """Queries that may still be sent before the query budget is spent (None: no budget)."""
        if self.query_budget is None:
            return None
        return max(self.query_budget - self.queries, 0)

    def ensure_budget(self, n_queries: int, purpose: str = "") -> None:
        """Raise :class:`~compliance_mia.errors.QueryBudgetExceeded` unless ``n_queries`` more fit."""
        left = self.remaining_budget()
        if left is not None and n_queries > left:
            what = f" for {purpose}" if purpose else ""
            unit = self.budget_unit
            raise QueryBudgetExceeded(
                f"sending {n_queries} more {unit}(s){what} would exceed {self.budget_source} "
                f"of {self.query_budget} {unit}(s): {self.queries} already sent, {left} left. "
                f"Nothing more was sent; raise the budget in the policy or audit fewer {unit}s"
            )


class Secret:
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


def retry_after(value: str | None) -> float | None:
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


def json_type(value: Any) -> str:
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


class JsonApiClient:
    """POSTs JSON bodies to one URL with retries, backoff, a rate limit and a guarded credential.

    Parameters
    ----------
    url, method, timeout_seconds, max_retries, backoff_seconds, rate_limit_per_second, auth_env, auth_header,
    auth_scheme, verify_tls
        As in the policy section (same names and meaning for every remote target).
    section
        The policy section, for messages (``model.http``, ``model.openai``).
    service
        What the endpoint is, for messages (``prediction API``).
    request_hint
        What to check when the server refuses a request as malformed (4xx other than auth and 404).
    not_found_hint
        What to check on 404/405 (default: the section's ``url``).
    sleep, clock
        Injected for tests; default :func:`time.sleep` and :func:`time.monotonic`.
    transport
        Optional ``httpx`` transport (tests); the default talks to the network.
    """

    def __init__(
        self,
        *,
        url: str,
        section: str,
        service: str,
        request_hint: str,
        not_found_hint: str | None = None,
        method: str = "POST",
        timeout_seconds: float = 30.0,
        max_retries: int = 5,
        backoff_seconds: float = 0.5,
        rate_limit_per_second: float | None = None,
        auth_env: str | None = None,
        auth_header: str = "Authorization",
        auth_scheme: str | None = "Bearer",
        verify_tls: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        transport: Any = None,
    ) -> None:
        import httpx

        self.url = url
        self.method = method
        self.section = section
        self.service = service
        self.request_hint = request_hint
        self.not_found_hint = not_found_hint or f"check {section}.url"
        self.timeout_seconds = timeout_seconds
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.rate_limit_per_second = rate_limit_per_second
        self.auth_env = auth_env
        self._sleep = sleep
        self._clock = clock
        self.cost = QueryCost()
        self._next_request_at = 0.0
        parts = urlsplit(url)
        if parts.username or parts.password:
            raise TargetError(
                f"{section}.url contains a user name or password; put the credential in an "
                f"environment variable and name it under {section}.auth_env"
            )
        port = f":{parts.port}" if parts.port else ""
        self.origin = f"{parts.scheme}://{parts.hostname}{port}"
        self.loopback = parts.hostname in _LOOPBACK
        self.secret: Secret | None = None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth_env is not None:
            value = os.environ.get(auth_env)
            if value is None or not value.strip():
                raise TargetError(
                    f"{section}.auth_env names the environment variable {auth_env}, which is "
                    "not set or empty; set it to the API credential before running (its value is "
                    "never written anywhere)"
                )
            value = value.strip()
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
                raise TargetError(
                    f"the credential in {auth_env} contains control characters (a line "
                    "break?) and cannot be sent as an HTTP header"
                )
            self.secret = Secret(value)
            headers[auth_header] = f"{auth_scheme} {value}" if auth_scheme else value
        self.warnings: list[str] = []
        if not verify_tls:
            self.warnings.append(
                f"TLS certificate verification was turned off for the {service} at "
                f"{self.origin} ({section}.verify_tls: false)"
            )
        if parts.scheme == "http" and self.secret is not None and not self.loopback:
            self.warnings.append(f"the API credential was sent to {self.origin} over plain HTTP, unencrypted")
        for text in self.warnings:
            log.warning("%s", text)
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout_seconds),
            verify=verify_tls,
            follow_redirects=False,
            transport=transport,
        )

    def __repr__(self) -> str:
        auth = f", auth_env={self.auth_env!r}" if self.auth_env else ""
        return f"JsonApiClient({self.origin}{auth})"

    def close(self) -> None:
        self._client.close()

    def redact(self, text: str) -> str:
        """``text`` with the credential, if it appears, replaced by ``<redacted>``."""
        if self.secret is not None:
            text = text.replace(self.secret.reveal(), "<redacted>")
        return text

    def _throttle(self) -> None:
        rate = self.rate_limit_per_second
        if rate is None:
            return
        now = self._clock()
        if self._next_request_at > now:
            wait = self._next_request_at - now
            self._sleep(wait)
            self.cost.throttle_seconds += wait
            now = self._next_request_at
        self._next_request_at = now + 1.0 / rate

    def send(self, body: bytes, n_records: int) -> Any:
        """Send one batch, retrying transient failures; returns the decoded JSON answer."""
        import httpx

        attempt = 0
        while True:
            self._throttle()
            started = self._clock()
            wait_asked: float | None = None
            try:
                response = self._client.request(self.method, self.url, content=body)
            except httpx.TimeoutException:
                problem = f"no answer within {self.timeout_seconds:g} s (timeout)"
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__}: {self.redact(str(exc))})"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    self.cost.requests += 1
                    self.cost.seconds += self._clock() - started
                    try:
                        return response.json()
                    except ValueError:
                        raise TargetError(
                            f"the {self.service} at {self.origin} answered {status} but the body is not JSON"
                        ) from None
                    except RecursionError:  # a hostile or broken server nesting thousands of levels
                        raise TargetError(
                            f"the {self.service} at {self.origin} answered {status} with JSON nested too "
                            "deeply to read"
                        ) from None
                if status != 429 and status < 500:
                    self.cost.requests += 1
                    self.cost.failures += 1
                    raise TargetError(self._client_error(response))
                problem = f"answered {status} {response.reason_phrase}".rstrip()
                wait_asked = retry_after(response.headers.get("Retry-After"))
            self.cost.requests += 1
            self.cost.failures += 1
            self.cost.seconds += self._clock() - started
            if attempt >= self.max_retries:
                raise TargetError(
                    f"the {self.service} at {self.origin} failed {attempt + 1} time(s) in a row "
                    f"for a batch of {n_records} record(s); last: {problem}. Retries are set by "
                    f"{self.section}.max_retries and backoff_seconds"
                )
            wait = wait_asked if wait_asked is not None else self.backoff_seconds * (2**attempt)
            if wait > MAX_RETRY_WAIT:
                raise TargetError(
                    f"the {self.service} at {self.origin} asked to wait {wait:.0f} s before "
                    f"retrying ({problem}); that is longer than {MAX_RETRY_WAIT:.0f} s, so the run "
                    "stops here. Try again later or agree a higher rate limit with the API owner"
                )
            attempt += 1
            log.warning(
                "%s at %s %s; retry %d of %d in %.2f s",
                self.service, self.origin, problem, attempt, self.max_retries, wait,
            )
            if wait > 0:
                self._sleep(wait)
            self.cost.backoff_seconds += wait
            self.cost.retries += 1

    def _client_error(self, response: Any) -> str:
        status = response.status_code
        text = f"the {self.service} at {self.origin} refused the request: {status} "
        text += f"{response.reason_phrase}".rstrip()
        if status in (401, 403):
            where = (
                f"the credential in the environment variable {self.auth_env}"
                if self.auth_env
                else f"a credential (set {self.section}.auth_env)"
            )
            text += f"; check {where} and {self.section}.auth_header/auth_scheme"
        elif status in (404, 405):
            text += f"; {self.not_found_hint}"
        elif 300 <= status < 400:
            text += f"; the API redirects: put the final address in {self.section}.url"
        else:
            text += f"; {self.request_hint}"
        return text
