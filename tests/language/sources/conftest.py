"""Fixtures for the text targets: one tiny trained LM, and a real OpenAI-compatible server on 127.0.0.1 serving it.

The model is a one-layer GPT-2 trained for a few epochs on a few passages of
the built-in corpus (seconds on CPU). :class:`CompletionsApi` is a real HTTP
server (``ThreadingHTTPServer`` in a thread, as the tabular target's
``FakeApi``) implementing the legacy ``/v1/completions`` answer format on
top of that same model, computed independently of
:class:`~compliance_mia.language.hf.HuggingFaceLM` (one text per forward
pass, top-k with token ids); tests script faults into it (5xx, 429 with
Retry-After) and broken answers (a chat endpoint, mismatched token counts).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from text_source_helpers import TINY, training_texts

pytest.importorskip("torch")
pytest.importorskip("transformers")

SECRET = "sk-text-3a2b1c0d9e8f-DO-NOT-LEAK"  # the API key a test must never find in any output
API_KEY_ENV = "CMIA_TEST_LM_KEY"
MODEL_NAME = "tiny-docs-lm"


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from compliance_mia.language.tiny_lm import train_causal_lm

    return train_causal_lm(training_texts(), tmp_path_factory.mktemp("tiny-lm") / "lm", seed=7, **TINY)


@pytest.fixture(scope="session")
def tiny_lm(tiny_lm_dir: Path):
    from compliance_mia.language.hf import HuggingFaceLM

    return HuggingFaceLM(tiny_lm_dir, batch_size=4, generate_batch_size=3)


@pytest.fixture(scope="session")
def texts() -> list[str]:
    """Audited texts of different lengths: members, held-out passages, and two short strings."""
    from text_source_helpers import held_out_texts

    return [*training_texts()[:6], *held_out_texts()[:6], "Short text.", "x = 1"]


# ------------------------------------------------------------- the server
@dataclass
class Fault:
    """One scripted misbehaviour, consumed by the next request."""

    status: int | None = None  #: answer with this status (e.g. 500, 429)
    retry_after: str | None = None  #: Retry-After header value


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict
    at: float


class _Scorer:
    """The served model, computed one text at a time (independently of HuggingFaceLM's batching)."""

    def __init__(self, directory: Path) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
        self.model = AutoModelForCausalLM.from_pretrained(str(directory), use_safetensors=True, local_files_only=True)
        self.model.eval()
        self.lock = threading.Lock()

    def echo(self, prompt: str, k: int) -> dict:
        import torch

        encoded = self.tokenizer(prompt, return_offsets_mapping=True)
        ids = encoded["input_ids"][:64]
        offsets = [start for start, _ in encoded["offset_mapping"][:64]]  # characters into the prompt
        tokens = [self.tokenizer.decode([i]) for i in ids]
        with self.lock, torch.no_grad():
            logits = self.model(input_ids=torch.tensor([ids])).logits[0, :-1].double()
        logp = torch.log_softmax(logits, dim=-1)
        token_logprobs: list = [None]
        top_logprobs: list = [None]
        for pos in range(1, len(ids)):
            row = logp[pos - 1]
            token_logprobs.append(float(row[ids[pos]]))
            values, index = torch.topk(row, k)
            top = {self.tokenizer.convert_ids_to_tokens(int(i)): float(v) for v, i in zip(values, index, strict=True)}
            # the legacy API always adds the chosen token, so a row may hold k + 1 entries
            top.setdefault(self.tokenizer.convert_ids_to_tokens(ids[pos]), float(row[ids[pos]]))
            top_logprobs.append(top)
        return {"tokens": tokens, "token_logprobs": token_logprobs, "top_logprobs": top_logprobs,
                "text_offset": offsets}

    def continue_(self, prompt: str, n: int) -> str:
        import torch

        ids = self.tokenizer(prompt)["input_ids"][-(64 - n):]
        new: list[int] = []
        with self.lock, torch.no_grad():
            for _ in range(n):  # greedy, one token at a time: the plainest possible decoder
                logits = self.model(input_ids=torch.tensor([ids + new])).logits[0, -1]
                token = int(torch.argmax(logits))
                if token == self.tokenizer.eos_token_id:
                    break
                new.append(token)
        return self.tokenizer.decode(new, skip_special_tokens=True)


@dataclass
class CompletionsApi:
    """An OpenAI-compatible ``/v1/completions`` endpoint on 127.0.0.1 serving the tiny model.

    ``mode`` breaks the answer on purpose: ``chat`` answers like a chat
    endpoint (a message, no logprobs); ``mismatch`` drops a token from
    ``tokens``; ``no_top`` omits top_logprobs; ``shuffle`` returns the
    choices in reverse order (they carry ``index``).
    """

    scorer: _Scorer
    token: str | None = None
    mode: str = "normal"
    faults: deque = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)

    def start(self) -> CompletionsApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._reply(400, {"error": {"message": "bad JSON"}})
                api.seen.append(Seen(self.path, dict(self.headers.items()), body, time.monotonic()))
                fault = api.faults.popleft() if api.faults else None
                if fault is not None and fault.status is not None:
                    extra = {} if fault.retry_after is None else {"Retry-After": fault.retry_after}
                    return self._reply(fault.status, {"error": {"message": "injected"}}, extra)
                if api.token is not None and self.headers.get("Authorization") != f"Bearer {api.token}":
                    return self._reply(401, {"error": {"message": "invalid api key"}})
                if self.path != "/v1/completions":
                    return self._reply(404, {"error": {"message": "not found"}})
                prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
                choices = []
                for index, prompt in enumerate(prompts):
                    if api.mode == "chat":
                        choices.append({"index": index, "message": {"role": "assistant", "content": "Hi"},
                                        "logprobs": None, "finish_reason": "stop"})
                        continue
                    if body.get("echo") and body.get("max_tokens") == 0:
                        logprobs = api.scorer.echo(prompt, int(body.get("logprobs") or 1))
                        if api.mode == "mismatch":
                            logprobs["tokens"] = logprobs["tokens"][:-1]
                        if api.mode == "no_top":
                            logprobs["top_logprobs"] = None
                        choices.append({"index": index, "text": prompt, "logprobs": logprobs,
                                        "finish_reason": "length"})
                    else:
                        text = api.scorer.continue_(prompt, int(body.get("max_tokens", 16)))
                        choices.append({"index": index, "text": text, "logprobs": None, "finish_reason": "length"})
                if api.mode == "shuffle":
                    choices.reverse()
                return self._reply(200, {"id": "cmpl-test", "object": "text_completion", "model": body.get("model"),
                                         "choices": choices})

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
                except OSError:
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1/completions"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def scorer(tiny_lm_dir: Path) -> _Scorer:
    return _Scorer(tiny_lm_dir)


@pytest.fixture
def completions_api(scorer: _Scorer):
    server = CompletionsApi(scorer).start()
    yield server
    server.stop()


@pytest.fixture
def fault() -> type[Fault]:
    """The :class:`Fault` class, for scripting the server (tests cannot import conftest)."""
    return Fault


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """(environment variable name, value) of a test API key, set in the environment."""
    monkeypatch.setenv(API_KEY_ENV, SECRET)
    return API_KEY_ENV, SECRET


@pytest.fixture(scope="session")
def model_name() -> str:
    return MODEL_NAME
