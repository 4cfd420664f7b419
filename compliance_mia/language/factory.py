"""Open the language model (and its reference model) the policy names, as a TextTarget.

``model.format`` picks the adapter; each adapter's module is imported only
when used, so a policy reaching a model through a log-probability file or an
endpoint never imports torch or transformers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from compliance_mia.errors import TargetError
from compliance_mia.language.logprobs import TextTarget
from compliance_mia.policy.schema import ModelSpec, OpenAITargetSpec, Policy, ReferenceLMSpec


def open_text_target(policy: Policy, *, ids: Sequence[str] | None = None) -> TextTarget:
    """The model under assessment (``ids``: the audited texts' IDs, for a log-probability file)."""
    return _open(policy.model, ids=ids, where="model")


def open_reference(policy: Policy, *, ids: Sequence[str] | None = None) -> TextTarget | None:
    """The reference language model for the calibration attack, or None when the policy names none."""
    spec = policy.model.reference
    if spec is None:
        return None
    return _open(spec, ids=ids, where="model.reference")


def _openai_kwargs(spec: OpenAITargetSpec) -> dict[str, Any]:
    return {
        "model": spec.model,
        "auth_env": spec.auth_env,
        "auth_header": spec.auth_header,
        "auth_scheme": spec.auth_scheme,
        "batch_size": spec.batch_size,
        "timeout_seconds": spec.timeout_seconds,
        "max_retries": spec.max_retries,
        "backoff_seconds": spec.backoff_seconds,
        "rate_limit_per_second": spec.rate_limit_per_second,
        "query_budget": spec.query_budget,
        "verify_tls": spec.verify_tls,
    }


def _open(spec: ModelSpec | ReferenceLMSpec, *, ids: Sequence[str] | None, where: str) -> TextTarget:
    if spec.format == "huggingface":
        assert spec.artifact is not None  # the schema requires it
        path = Path(spec.artifact)
        if not path.is_dir():
            raise TargetError(
                f"{where}.artifact: '{path.name}' is not a directory; a Hugging Face model is a directory holding "
                "config.json, *.safetensors weights and the tokenizer files"
            )
        from compliance_mia.language.hf import HuggingFaceLM

        return HuggingFaceLM(path)
    if spec.format == "openai":
        from compliance_mia.language.openai import OpenAICompletionsLM

        assert spec.openai is not None
        return OpenAICompletionsLM(spec.openai.url, **_openai_kwargs(spec.openai))
    if spec.format == "logprobs":
        from compliance_mia.language.logprob_file import LogprobFileLM

        assert spec.logprobs is not None
        return LogprobFileLM(Path(spec.logprobs.file), ids=list(ids) if ids is not None else None)
    raise TargetError(f"{where}.format: '{spec.format}' is not a language-model format (huggingface, openai, logprobs)")


def text_attack_names() -> list[str]:
    """Every text attack's name (for checking attacks.select and attacks.exclude)."""
    from compliance_mia.language.attacks import text_attacks

    return sorted(text_attacks())
