"""A Hugging Face transformers causal language model loaded from a local directory.

Weights are read from safetensors only: a ``pytorch_model.bin`` is a pickle,
and unpickling a file someone sent you runs their code. A directory holding
only pickle weights is refused with an error naming the file, not loaded
with a warning.

Texts are scored in batches with right padding and an attention mask: a
causal model's real tokens never attend to padding that comes after them,
and positions count from the first real token, so a text's log-probabilities
do not depend on which other texts share its batch (tested within 1e-5).
Generation pads on the left, as decoder-only generation needs, and is greedy,
so it is deterministic.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from compliance_mia.errors import TargetError
from compliance_mia.language.logprobs import TokenScores

log = logging.getLogger(__name__)

__all__ = ["HuggingFaceLM", "check_model_directory", "quiet_progress"]

#: below this many parameters a model runs on one torch thread by default: its matrices are too small for
#: threads to pay for their synchronisation, and on a busy machine spinning threads cost far more (the demo model,
#: 100 prompts x 32 greedy tokens: 0.3 CPU-s on one thread, 12 CPU-s on two, with other jobs running)
SMALL_MODEL_PARAMETERS = 20_000_000

_PICKLE_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack")


@contextmanager
def quiet_progress() -> Iterator[None]:
    """Hide transformers' progress bars while loading or saving (restored after): they would interleave
    with the command's own output and say nothing an auditor needs.
    """
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def check_model_directory(path: Path) -> None:
    """Refuse, with a located reason, a directory that is not a safetensors causal-LM checkpoint."""
    if not path.exists():
        raise TargetError(f"the language model directory {path} does not exist")
    if not path.is_dir():
        raise TargetError(
            f"{path} is a file; a Hugging Face model is a directory holding config.json, *.safetensors "
            "weights and the tokenizer files"
        )
    if not (path / "config.json").is_file():
        raise TargetError(f"{path} holds no config.json, so it is not a Hugging Face model directory")
    if not any(path.glob("*.safetensors")):
        pickled = [name for name in _PICKLE_WEIGHTS if (path / name).exists()]
        pickled += sorted(p.name for p in path.glob("pytorch_model-*.bin"))
        if pickled:
            raise TargetError(
                f"{path / pickled[0]} is a pickle file: loading it would run any code inside it, so "
                "compliance-mia reads safetensors weights only. Convert the model to safetensors "
                "(model.save_pretrained(dir, safe_serialization=True) where you trust the file) and point "
                "model.artifact at that directory"
            )
        raise TargetError(f"{path} holds no *.safetensors weights")


class HuggingFaceLM:
    """A local causal LM as a :class:`~compliance_mia.language.logprobs.TextTarget`.

    Parameters
    ----------
    path
        Directory with ``config.json``, ``*.safetensors`` and tokenizer files.
    batch_size
        Texts per forward pass.
    max_tokens
        Texts longer than this many tokens are scored on their first
        ``max_tokens`` tokens only (logged once), as the model's context
        window would force anyway.
    generate_batch_size
        Prompts per greedy generation. Larger than ``batch_size`` by default:
        each new token costs one forward pass for the whole batch, so small
        batches multiply the passes (400 prompts, 32 new tokens on the demo
        model: 34 CPU-s per 100 prompts in batches of 8, 10 in batches of 32).
    """

    def __init__(
        self,
        path: Path,
        *,
        batch_size: int = 8,
        max_tokens: int = 512,
        generate_batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(path)
        check_model_directory(path)
        if batch_size < 1 or generate_batch_size < 1 or max_tokens < 2:
            raise ValueError("batch sizes must be at least 1 and max_tokens at least 2")
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            with quiet_progress():
                self._model = AutoModelForCausalLM.from_pretrained(
                    str(path), use_safetensors=True, local_files_only=True, trust_remote_code=False
                )
        except (OSError, ValueError, KeyError) as exc:
            raise TargetError(f"cannot load the language model in {path}: {exc}") from None
        self._model.eval()
        window = getattr(self._model.config, "n_positions", None) or getattr(
            self._model.config, "max_position_embeddings", None
        )
        self.max_tokens = min(max_tokens, int(window)) if window else max_tokens
        self.batch_size = batch_size
        self.generate_batch_size = generate_batch_size
        self.path = path
        self.name = f"huggingface:{path.name}"
        pad = self._tokenizer.pad_token_id
        if pad is None:
            pad = self._tokenizer.eos_token_id if self._tokenizer.eos_token_id is not None else 0
        self._pad = int(pad)
        self._torch = torch
        if threads is None and sum(p.numel() for p in self._model.parameters()) < SMALL_MODEL_PARAMETERS:
            threads = 1
        if threads is not None and threads < 1:
            raise ValueError("threads must be at least 1")
        self.threads = threads
        self.queries = 0  # texts scored or prompts continued

    def __repr__(self) -> str:
        return f"HuggingFaceLM({str(self.path)!r})"

    @contextmanager
    def _threads(self) -> Iterator[None]:
        """Run with :attr:`threads` torch threads, restoring the process's setting after."""
        if self.threads is None:
            yield
            return
        previous = self._torch.get_num_threads()
        self._torch.set_num_threads(self.threads)
        try:
            yield
        finally:
            self._torch.set_num_threads(previous)

    # ------------------------------------------------------------- tokens
    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` as scored, cut to ``max_tokens``.

        Special tokens are added as the model's own tokenizer adds them by
        default (GPT-2: none; Llama-style: a leading BOS, which then gives the
        first real token a context, as an OpenAI-compatible server's echo does).
        """
        ids = self._tokenizer(text)["input_ids"]
        return list(ids[: self.max_tokens])

    def token_strings(self, ids: Sequence[int]) -> list[str]:
        """Each token's text (decoded alone), as an OpenAI-compatible server reports it."""
        return [self._tokenizer.decode([int(i)]) for i in ids]

    # ------------------------------------------------------------- scoring
    def score(self, texts: Sequence[str], *, top_k: int = 0) -> list[TokenScores]:
        """Log p(token_i | tokens before it) for every token after the first, per text."""
        if top_k < 0:
            raise ValueError("top_k must be 0 or more")
        full = [list(self._tokenizer(t)["input_ids"]) for t in texts]  # as encode(), before the cut
        encoded = [ids[: self.max_tokens] for ids in full]
        cut = sum(1 for ids in full if len(ids) > self.max_tokens)
        if cut:
            log.warning("%s: %d text(s) are longer than %d tokens and were scored on their first %d tokens",
                        self.name, cut, self.max_tokens, self.max_tokens)
        out = self.score_tokens(encoded, top_k=top_k)
        self.queries += len(texts)
        return out

    def score_tokens(self, encoded: Sequence[Sequence[int]], *, top_k: int = 0) -> list[TokenScores]:
        """Score already-tokenised texts (see :meth:`score`); also the test server's entry point."""
        torch = self._torch
        encoded = [list(ids)[: self.max_tokens] for ids in encoded]
        out: list[TokenScores | None] = [None] * len(encoded)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))  # similar lengths, less padding
        k = min(top_k, self._model.config.vocab_size)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            width = max(len(encoded[i]) for i in chunk)
            if width < 2:
                for i in chunk:
                    out[i] = TokenScores(np.zeros(0), np.zeros((0, k)) if top_k else None)
                continue
            input_ids = torch.full((len(chunk), width), self._pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, i in enumerate(chunk):
                ids = encoded[i]
                input_ids[row, : len(ids)] = torch.tensor(list(ids), dtype=torch.long)
                mask[row, : len(ids)] = 1
            with torch.no_grad(), self._threads():
                logits = self._model(input_ids=input_ids, attention_mask=mask).logits
                for row, i in enumerate(chunk):
                    # one text at a time in float64: log p = logit - logsumexp(logits), without holding a
                    # (batch x tokens x vocabulary) float64 array (gigabytes for a real vocabulary)
                    n = max(len(encoded[i]) - 1, 0)
                    row_logits = logits[row, :n, :].double()
                    norm = torch.logsumexp(row_logits, dim=-1)
                    chosen = row_logits.gather(-1, input_ids[row, 1 : n + 1].unsqueeze(-1)).squeeze(-1) - norm
                    top = torch.topk(row_logits, k, dim=-1).values - norm.unsqueeze(-1) if top_k else None
                    out[i] = TokenScores(chosen.numpy().copy(), top.numpy().copy() if top is not None else None)
        return [s for s in out if s is not None]

    # ------------------------------------------------------------ generating
    def generate(self, prompts: Sequence[str], *, max_new_tokens: int) -> list[str]:
        """Greedy continuations of ``prompts`` (the new text only), batched with left padding."""
        torch = self._torch
        if max_new_tokens < 0:
            raise ValueError("max_new_tokens must be 0 or more")
        results: list[str] = [""] * len(prompts)
        if max_new_tokens == 0:
            self.queries += len(prompts)
            return results
        keep = max(self.max_tokens - max_new_tokens, 1)
        encoded = [self.encode(p)[-keep:] or [self._pad] for p in prompts]
        for start in range(0, len(encoded), self.generate_batch_size):
            chunk = encoded[start : start + self.generate_batch_size]
            width = max(len(ids) for ids in chunk)
            input_ids = torch.full((len(chunk), width), self._pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, ids in enumerate(chunk):
                input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
                mask[row, width - len(ids) :] = 1
            with torch.no_grad(), self._threads():
                generated = self._model.generate(
                    input_ids=input_ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
                    num_beams=1, pad_token_id=self._pad, eos_token_id=self._tokenizer.eos_token_id,
                )
            for row in range(len(chunk)):
                new = generated[row, width:].tolist()
                results[start + row] = self._tokenizer.decode(new, skip_special_tokens=True)
        self.queries += len(prompts)
        return results

    def query_cost(self) -> dict[str, float]:
        """Texts asked so far (the remote target adds requests, retries and seconds)."""
        return {"records": float(self.queries)}

    def close(self) -> None:
        """Nothing to release: the model lives in this process."""
