"""A language model behind an OpenAI-compatible ``/v1/completions`` endpoint.

Scoring a text uses the legacy completions API's ``echo``: the prompt is sent
with ``max_tokens: 0`` and ``logprobs: k``, and the server returns the
prompt's own tokens with ``token_logprobs`` (the first is ``null``: it has
no context) and, per position, ``top_logprobs`` as ``{token: logprob}``. Chat
endpoints cannot do this; a server that answers without log-probabilities is
refused with an error that says so, never read as zeros.

Batches, retries with backoff and ``Retry-After``, the rate limit and the
credential's handling are the tabular HTTP target's
(:class:`~compliance_mia.targets.httpclient.JsonApiClient`), and so is the
query budget (:class:`~compliance_mia.targets.httpclient.QueryBudget`), which
here counts texts (one prompt, one query).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from compliance_mia.errors import TargetError
from compliance_mia.language.logprobs import TokenScores
from compliance_mia.targets.httpclient import JsonApiClient, QueryBudget, json_type

log = logging.getLogger(__name__)

__all__ = ["OpenAICompletionsLM"]

_SECTION = "model.openai"
_SERVICE = "completions endpoint"
#: a log-probability above this is not a log-probability (servers round, so allow a hair above 0)
_MAX_LOGPROB = 1e-4


class OpenAICompletionsLM(QueryBudget):
    """An OpenAI-compatible completions endpoint as a :class:`~compliance_mia.language.logprobs.TextTarget`.

    The options have the names and meaning of the tabular ``model.http``
    section; ``model`` is the ``model`` field sent in every request.
    ``query_budget`` is the most texts (prompts) the assessment may send.
    """

    budget_source = f"{_SECTION}.query_budget"
    budget_unit = "text"

    def __init__(
        self,
        url: str,
        *,
        model: str,
        auth_env: str | None = None,
        auth_header: str = "Authorization",
        auth_scheme: str | None = "Bearer",
        batch_size: int = 16,
        timeout_seconds: float = 30.0,
        max_retries: int = 5,
        backoff_seconds: float = 0.5,
        rate_limit_per_second: float | None = None,
        query_budget: int | None = None,
        verify_tls: bool = True,
        transport: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise TargetError(f"{_SECTION}.url must start with http:// or https://")
        if batch_size < 1:
            raise TargetError(f"{_SECTION}.batch_size must be at least 1")
        if query_budget is not None and query_budget < 1:
            raise TargetError(f"{_SECTION}.query_budget must be at least 1 (or left out for no budget)")
        self.model = model
        self.batch_size = batch_size
        self.query_budget = query_budget
        self.queries = 0  # texts answered
        self._http = JsonApiClient(
            url=url,
            section=_SECTION,
            service=_SERVICE,
            request_hint=(
                f"check {_SECTION}.url points at an OpenAI-compatible /v1/completions endpoint that accepts "
                f"echo and logprobs, and that {_SECTION}.model names a model it serves"
            ),
            timeout_seconds=timeout_seconds,
            max_retries=max_retries,
            backoff_seconds=backoff_seconds,
            rate_limit_per_second=rate_limit_per_second,
            auth_env=auth_env,
            auth_header=auth_header,
            auth_scheme=auth_scheme,
            verify_tls=verify_tls,
            sleep=sleep,
            clock=clock,
            transport=transport,
        )
        self.name = f"openai:{model}@{self._http.origin}"

    def __repr__(self) -> str:
        auth = f", auth_env={self._http.auth_env!r}" if self._http.auth_env else ""
        return f"OpenAICompletionsLM({self._http.origin}, model={self.model!r}{auth})"

    # ------------------------------------------------------------- accounting
    def query_cost(self) -> dict[str, float]:
        """Texts, requests, retries and seconds spent (the tabular HTTP target's fields)."""
        return self._http.cost.rounded()

    def assessment_warnings(self) -> list[str]:
        return list(self._http.warnings)

    def close(self) -> None:
        self._http.close()

    # --------------------------------------------------------------- queries
    def _batches(self, items: Sequence[str], body: Callable[[list[str]], dict], read: Callable) -> list:
        """Send ``items`` in batches, checking the budget before each; texts count once the server answered."""
        out: list = []
        for start in range(0, len(items), self.batch_size):
            batch = list(items[start : start + self.batch_size])
            self.ensure_budget(len(batch), "this batch")
            payload = json.dumps(body(batch), allow_nan=False).encode("utf-8")
            answer = self._http.send(payload, len(batch))
            self.queries += len(batch)  # spent even if the answer then turns out unreadable
            self._http.cost.records += len(batch)
            out.extend(read(answer, batch))
        return out

    def score(self, texts: Sequence[str], *, top_k: int = 0) -> list[TokenScores]:
        """Each text's token log-probabilities (and the top ``top_k`` per position), via ``echo``."""
        if top_k < 0:
            raise ValueError("top_k must be 0 or more")
        empty = [i for i, t in enumerate(texts) if not t]
        if empty:
            raise TargetError(f"text {empty[0]} is empty; an endpoint cannot score an empty prompt")

        def body(batch: list[str]) -> dict:
            return {"model": self.model, "prompt": batch, "echo": True, "max_tokens": 0,
                    "logprobs": max(top_k, 1), "temperature": 0}

        def read(answer: Any, batch: list[str]) -> list[TokenScores]:
            choices = self._choices(answer, len(batch))
            return [self._token_scores(choice, text, i, top_k) for i, (choice, text) in
                    enumerate(zip(choices, batch, strict=True))]

        return self._batches(texts, body, read)

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int) -> list[str]:
        """Greedy (``temperature: 0``) continuations of ``prompts``, the new text only."""
        if max_new_tokens < 0:
            raise ValueError("max_new_tokens must be 0 or more")

        def body(batch: list[str]) -> dict:
            return {"model": self.model, "prompt": batch, "max_tokens": max_new_tokens, "temperature": 0}

        def read(answer: Any, batch: list[str]) -> list[str]:
            out = []
            for i, choice in enumerate(self._choices(answer, len(batch))):
                text = choice.get("text")
                if not isinstance(text, str):
                    raise TargetError(
                        f"the {_SERVICE} at {self._http.origin}: choices[{i}].text is a {json_type(text)}, "
                        "not the generated text (a string)"
                    )
                out.append(text)
            return out

        return self._batches(prompts, body, read)

    # ---------------------------------------------------------------- answers
    def _problem(self, where: str, what: str) -> TargetError:
        return TargetError(f"the {_SERVICE} at {self._http.origin}: {where} {what}")

    def _choices(self, answer: Any, n: int) -> list[dict]:
        """The answer's choices in prompt order (by ``index`` when present), one per prompt."""
        if not isinstance(answer, dict) or not isinstance(answer.get("choices"), list):
            keys = ", ".join(map(repr, list(answer)[:12])) if isinstance(answer, dict) else json_type(answer)
            raise self._problem(
                "the answer", f"has no 'choices' list (found: {keys}); {_SECTION}.url must be an OpenAI-compatible "
                "/v1/completions endpoint"
            )
        choices = answer["choices"]
        if len(choices) != n or not all(isinstance(c, dict) for c in choices):
            raise self._problem(
                "the answer", f"holds {len(choices)} choice(s) for a batch of {n} prompt(s); expected one object "
                "per prompt (a server that returns several completions per prompt is not supported)"
            )
        if all("index" in c for c in choices):
            indices = [c["index"] for c in choices]
            if any(isinstance(x, bool) or not isinstance(x, int) for x in indices) or sorted(indices) != list(range(n)):
                raise self._problem("choices[*].index", f"is not a permutation of 0..{n - 1}")
            choices = sorted(choices, key=lambda c: c["index"])
        return choices

    def _token_scores(self, choice: dict, text: str, i: int, top_k: int) -> TokenScores:
        where = f"choices[{i}].logprobs"
        logprobs = choice.get("logprobs")
        if not isinstance(logprobs, dict):
            hint = " (this looks like a chat endpoint)" if "message" in choice else ""
            raise self._problem(
                where,
                f"is {json_type(logprobs)}: the server returned no log-probabilities{hint}. Scoring a text needs an "
                "OpenAI-compatible /v1/completions endpoint that supports echo: true with logprobs; a chat-only "
                "endpoint cannot score a given text, so declare exposure.outputs: generated_text for it",
            )
        tokens = logprobs.get("tokens")
        values = logprobs.get("token_logprobs")
        if not isinstance(tokens, list) or not isinstance(values, list):
            raise self._problem(where, "lacks the 'tokens' and 'token_logprobs' lists")
        n = len(values)
        if len(tokens) != n:
            raise self._problem(where, f"has {len(tokens)} token(s) but {n} token_logprobs; they must match")
        offsets = logprobs.get("text_offset")
        if offsets is not None:
            if not isinstance(offsets, list) or len(offsets) != n:
                raise self._problem(where, f"has a text_offset list that does not have one entry per token ({n})")
            # tokens the server generated after the prompt (a server ignoring max_tokens: 0) are not the text's
            n = sum(1 for o in offsets if isinstance(o, int) and o < len(text))
        if n == 0:
            raise self._problem(where, "holds no tokens: the server did not echo the prompt (echo: true)")
        top_rows = logprobs.get("top_logprobs") if top_k else None
        if top_k and (not isinstance(top_rows, list) or len(top_rows) < n):
            raise self._problem(
                where, f"has no top_logprobs with one entry per token, but top {top_k} log-probabilities were asked"
            )
        lp = np.empty(n - 1)
        top = np.empty((n - 1, top_k)) if top_k else None
        for pos in range(1, n):  # the first token has no context (its value is null)
            lp[pos - 1] = self._logprob(values[pos], f"{where}.token_logprobs[{pos}]")
            if top is not None:
                row = top_rows[pos]
                if not isinstance(row, dict):
                    raise self._problem(f"{where}.top_logprobs[{pos}]", f"is a {json_type(row)}, not a {{token: "
                                        "logprob}} object")
                got = sorted((self._logprob(v, f"{where}.top_logprobs[{pos}]") for v in row.values()), reverse=True)
                if len(got) < top_k:
                    raise self._problem(
                        f"{where}.top_logprobs[{pos}]", f"holds {len(got)} token(s) but top {top_k} were asked; "
                        "lower exposure.top_k to what the endpoint returns",
                    )
                top[pos - 1] = got[:top_k]
        return TokenScores(lp, top)

    def _logprob(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._problem(where, f"is a {json_type(value)} where a log-probability (a number) is expected")
        if not math.isfinite(value) or value > _MAX_LOGPROB:
            raise self._problem(where, "is not a log-probability (a finite number at most 0)")
        return float(value)
