"""A deployed prediction API, queried over HTTP(S) the way an outside caller would.

The policy says where records go in the request (a JSON template with
``"$records"``), how each record is written (a ``{feature: value}`` object or
a list in feature order) and where the answers come back (dotted JSON paths,
``*`` stepping into each item of a list). Records are sent in batches.

Retries with backoff and ``Retry-After``, the client-side rate limit, cost
accounting and the handling of the credential are shared with the other
remote targets (:mod:`compliance_mia.targets.httpclient`). A total query
budget stops the assessment *before* a batch that would exceed it; every
record, request, retry and second spent is counted
(:meth:`HttpTarget.query_cost`) so the Assessment can state what the audit
cost the service.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from compliance_mia.errors import TargetError
from compliance_mia.policy.schema import HttpTargetSpec
from compliance_mia.targets.base import RawOutputs, Target, class_index, probability_problem
from compliance_mia.targets.httpclient import MAX_RETRY_WAIT, JsonApiClient, QueryCost, Secret
from compliance_mia.targets.httpclient import json_type as _json_type

log = logging.getLogger(__name__)

__all__ = ["MAX_RETRY_WAIT", "HttpTarget", "QueryCost", "resolve_path"]

_RECORDS = "$records"


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
        self.spec = spec
        self.query_budget = spec.query_budget
        self._lost = 0  # records answered during a call that then failed (still spent)
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
        self._http = JsonApiClient(
            url=spec.url,
            section="model.http",
            service="prediction API",
            request_hint=(
                "check model.http.request_template and records_as, and that "
                "data.feature_columns are the inputs the API expects"
            ),
            not_found_hint="check model.http.url and model.http.method",
            method=spec.method,
            timeout_seconds=spec.timeout_seconds,
            max_retries=spec.max_retries,
            backoff_seconds=spec.backoff_seconds,
            rate_limit_per_second=spec.rate_limit_per_second,
            auth_env=spec.auth_env,
            auth_header=spec.auth_header,
            auth_scheme=spec.auth_scheme,
            verify_tls=spec.verify_tls,
            sleep=sleep,
            clock=clock,
            transport=transport,
        )
        self._origin = self._http.origin

    @property
    def cost(self) -> QueryCost:
        """Requests, retries and seconds spent so far (shared client's count)."""
        return self._http.cost

    @property
    def _secret(self) -> Secret | None:
        return self._http.secret

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
        return list(self._http.warnings)

    def remaining_budget(self) -> int | None:
        if self.query_budget is None:
            return None
        return max(self.query_budget - self.queries - self._lost, 0)

    def query_cost(self) -> dict[str, float]:
        return self.cost.rounded()

    def close(self) -> None:
        self._http.close()

    # ---------------------------------------------------------------- helpers
    def _records(self, X: pd.DataFrame) -> list:
        values = X.astype(object).where(X.notna(), None)
        if self.spec.records_as == "lists":
            return values.to_numpy().tolist()
        columns = [str(c) for c in X.columns]
        return [dict(zip(columns, row, strict=True)) for row in values.to_numpy().tolist()]

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
                answer = self._http.send(body, len(batch))
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
