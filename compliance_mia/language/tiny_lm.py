"""A small GPT-2-style language model trained from scratch, seeded, for the demo and tests.

A membership demo needs a model whose training set is known exactly, so it
cannot be a downloaded checkpoint: this trains one in seconds on CPU. The
model is small on purpose and trained for many epochs on few passages, so it
memorises them the way a fine-tuned model memorises its fine-tuning data.

Everything is deterministic from ``seed``: the weight initialisation and the
batch order come from seeded torch generators, torch runs with deterministic
algorithms and a fixed thread count while training (both restored after), and
the byte-level BPE tokenizer is trained by the ``tokenizers`` library, which
is deterministic for a fixed input. The result is written the way the
:class:`~compliance_mia.language.hf.HuggingFaceLM` target reads a model:
``config.json``, ``model.safetensors`` and the tokenizer files, never pickle.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from compliance_mia.language.hf import quiet_progress

log = logging.getLogger(__name__)

__all__ = ["EOS", "train_causal_lm", "train_tokenizer"]

#: the one special token: end of text, also used for padding
EOS = "<|endoftext|>"


def train_tokenizer(texts: Sequence[str], *, vocab_size: int = 512) -> Any:
    """A byte-level BPE tokenizer (GPT-2's scheme) trained on ``texts``, as a transformers fast tokenizer.

    Byte-level means every string can be encoded, so a text outside the
    training set never fails to tokenise.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, bos_token=EOS, pad_token=EOS)


def train_causal_lm(
    texts: Sequence[str],
    out_dir: Path,
    *,
    seed: int,
    epochs: int,
    tokenizer_texts: Sequence[str] | None = None,
    tokenizer_from: Path | None = None,
    vocab_size: int = 512,
    n_embd: int = 64,
    n_layer: int = 2,
    n_head: int = 4,
    max_tokens: int = 128,
    batch_size: int = 16,
    learning_rate: float = 3e-3,
    threads: int = 1,
    log_every: int = 0,
) -> Path:
    """Train a GPT-2-style causal LM on ``texts`` from scratch and save it to ``out_dir``; return ``out_dir``.

    Parameters
    ----------
    texts
        The training set (the "members").
    seed
        Decides the initial weights and the batch order; same seed and
        inputs give identical weights.
    epochs
        Passes over ``texts``; more epochs, more memorisation.
    tokenizer_texts
        Texts to train the tokenizer on (default: ``texts``). A demo passes
        the whole corpus so that target and reference share one tokenizer
        and the vocabulary itself says nothing about membership.
    tokenizer_from
        A directory holding a saved tokenizer to reuse instead (e.g. the
        target's, for a reference model).
    max_tokens
        Longer texts are cut to this many tokens (also the context size).
    threads
        torch's intra-op thread count while training; fixed because the
        summation order, and so the last bits of the weights, depend on it.
    """
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    if not texts:
        raise ValueError("train_causal_lm needs at least one text")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if tokenizer_from is not None:
        tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_from), local_files_only=True)
    else:
        tokenizer = train_tokenizer(tokenizer_texts if tokenizer_texts is not None else texts,
                                    vocab_size=vocab_size)
    encoded = [tokenizer(t, add_special_tokens=False)["input_ids"][:max_tokens] for t in texts]
    encoded = [ids for ids in encoded if len(ids) >= 2]
    if not encoded:
        raise ValueError("every training text is shorter than two tokens")

    previous_threads = torch.get_num_threads()
    previous_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        torch.manual_seed(seed)
        config = GPT2Config(
            vocab_size=len(tokenizer), n_positions=max_tokens, n_embd=n_embd, n_layer=n_layer, n_head=n_head,
            resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,  # no dropout: memorise, and fewer random draws
            bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        model = GPT2LMHeadModel(config)
        model.train()
        optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.0)
        order = torch.Generator().manual_seed(seed)
        pad = tokenizer.pad_token_id
        steps = 0
        for epoch in range(epochs):
            permutation = torch.randperm(len(encoded), generator=order).tolist()
            total = 0.0
            for start in range(0, len(permutation), batch_size):
                batch = [encoded[i] for i in permutation[start : start + batch_size]]
                width = max(len(ids) for ids in batch)
                input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, ids in enumerate(batch):
                    input_ids[row, : len(ids)] = torch.tensor(ids)
                    mask[row, : len(ids)] = 1
                labels = input_ids.masked_fill(mask == 0, -100)[:, 1:]
                logits = model(input_ids=input_ids, attention_mask=mask).logits[:, :-1, :]
                loss = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100
                )
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                total += loss.item() * len(batch)
                steps += 1
            if log_every and (epoch + 1) % log_every == 0:
                log.info("epoch %d/%d: mean training loss %.3f", epoch + 1, epochs, total / len(encoded))
        model.eval()
        with quiet_progress():
            model.save_pretrained(str(out_dir), safe_serialization=True)
        tokenizer.save_pretrained(str(out_dir))
    finally:
        torch.use_deterministic_algorithms(previous_deterministic)
        torch.set_num_threads(previous_threads)
    return out_dir
