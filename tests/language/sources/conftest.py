"""Fixtures for the text targets: one tiny trained LM, and a real OpenAI-compatible server on 127.0.0.1 serving it.

The model is a one-layer GPT-2 trained for a few epochs on a few passages of
the built-in corpus (seconds on CPU). :class:`CompletionsApi` is a real HTTP
server on 127.0.0.1 (tests/_loopback.py, shared with the tabular target's
``FakeApi``) implementing the legacy ``/v1/completions`` answer format on
top of that same model, computed independently of
:class:`~compliance_mia.language.hf.HuggingFaceLM` (one text per forward
pass, top-k with token ids); tests script faults into it (5xx, 429 with
Retry-After) and broken answers (a chat endpoint, mismatched token counts).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
from _loopback import LoopbackApi, close_opened, fault, secret_fixture  # noqa: F401 - fixtures shared with tabular targets
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
class CompletionsApi(LoopbackApi):
    """An OpenAI-compatible ``/v1/completions`` endpoint on 127.0.0.1 serving the tiny model.

    ``mode`` breaks the answer on purpose: ``chat`` answers like a chat
    endpoint (a message, no logprobs); ``mismatch`` drops a token from
    ``tokens``; ``no_top`` omits top_logprobs; ``shuffle`` returns the
    choices in reverse order (they carry ``index``).
    """

    scorer: _Scorer
    mode: str = "normal"

    path: ClassVar[str] = "/v1/completions"

    def error(self, message: str) -> dict:
        return {"error": {"message": message}}  # the OpenAI shape

    def count(self, body: Any) -> int:
        return len(body["prompt"]) if isinstance(body["prompt"], list) else 1

    def answer(self, path: str, body: Any) -> tuple[int, dict]:
        if path != self.path:
            return 404, self.error("not found")
        prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
        choices = []
        for index, prompt in enumerate(prompts):
            if self.mode == "chat":
                choices.append({"index": index, "message": {"role": "assistant", "content": "Hi"},
                                "logprobs": None, "finish_reason": "stop"})
                continue
            if body.get("echo") and body.get("max_tokens") == 0:
                logprobs = self.scorer.echo(prompt, int(body.get("logprobs") or 1))
                if self.mode == "mismatch":
                    logprobs["tokens"] = logprobs["tokens"][:-1]
                if self.mode == "no_top":
                    logprobs["top_logprobs"] = None
                choices.append({"index": index, "text": prompt, "logprobs": logprobs, "finish_reason": "length"})
            else:
                text = self.scorer.continue_(prompt, int(body.get("max_tokens", 16)))
                choices.append({"index": index, "text": text, "logprobs": None, "finish_reason": "length"})
        if self.mode == "shuffle":
            choices.reverse()
        return 200, {"id": "cmpl-test", "object": "text_completion", "model": body.get("model"), "choices": choices}


@pytest.fixture(scope="session")
def scorer(tiny_lm_dir: Path) -> _Scorer:
    return _Scorer(tiny_lm_dir)


@pytest.fixture
def completions_api(scorer: _Scorer):
    server = CompletionsApi(scorer).start()
    yield server
    server.stop()


secret = secret_fixture(API_KEY_ENV, SECRET)


@pytest.fixture(scope="session")
def model_name() -> str:
    return MODEL_NAME
