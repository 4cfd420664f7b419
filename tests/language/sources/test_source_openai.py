"""The OpenAI-compatible completions target against a real server on 127.0.0.1 serving the tiny model."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pytest
from _loopback import Recorder, opened

from compliance_mia.errors import QueryBudgetExceeded, TargetError
from compliance_mia.language.openai import OpenAICompletionsLM


def make(api, **options) -> OpenAICompletionsLM:
    fields = {"model": "tiny-docs-lm", "batch_size": 5, "timeout_seconds": 10.0, "backoff_seconds": 0.01, **options}
    return opened(OpenAICompletionsLM(api.url, **fields))


def test_scores_match_the_model_in_batches(completions_api, tiny_lm, texts) -> None:
    target = make(completions_api)
    remote = target.score(texts, top_k=5)
    local = tiny_lm.score(texts, top_k=5)
    for r, loc in zip(remote, local, strict=True):
        np.testing.assert_allclose(r.logprobs, loc.logprobs, atol=1e-5, rtol=0)
        np.testing.assert_allclose(r.top_logprobs, loc.top_logprobs, atol=1e-5, rtol=0)
    bodies = [s.body for s in completions_api.seen]
    assert [len(b["prompt"]) for b in bodies] == [5, 5, 4]
    assert all(b["echo"] is True and b["max_tokens"] == 0 and b["logprobs"] == 5 for b in bodies)
    assert all(b["model"] == "tiny-docs-lm" for b in bodies)
    assert target.queries == len(texts) and target.query_cost()["requests"] == 3


def test_choices_are_put_back_in_prompt_order_by_index(completions_api, tiny_lm, texts) -> None:
    completions_api.mode = "shuffle"
    remote = make(completions_api).score(texts[:5])
    for r, loc in zip(remote, tiny_lm.score(texts[:5]), strict=True):
        np.testing.assert_allclose(r.logprobs, loc.logprobs, atol=1e-5, rtol=0)


def test_token_logprobs_only_ask_for_one_and_return_no_top(completions_api, tiny_lm, texts) -> None:
    (scores,) = make(completions_api).score(texts[:1])
    assert scores.top_logprobs is None
    np.testing.assert_allclose(scores.logprobs, tiny_lm.score(texts[:1])[0].logprobs, atol=1e-5)


def test_greedy_generation_matches_the_model(completions_api, tiny_lm, texts) -> None:
    prompts = [t[:60] for t in texts[:4]]
    target = make(completions_api)
    assert target.generate(prompts, max_new_tokens=6) == tiny_lm.generate(prompts, max_new_tokens=6)
    body = completions_api.seen[-1].body
    assert body["max_tokens"] == 6 and body["temperature"] == 0 and "echo" not in body


def test_survives_500_and_429_honouring_retry_after(completions_api, fault, tiny_lm, texts) -> None:
    completions_api.faults.extend([fault(status=500), fault(status=503), fault(status=429, retry_after="1")])
    sleep = Recorder()
    target = make(completions_api, sleep=sleep, backoff_seconds=0.05)
    remote = target.score(texts[:3])
    np.testing.assert_allclose(remote[2].logprobs, tiny_lm.score(texts[2:3])[0].logprobs, atol=1e-5)
    assert sleep.waits == pytest.approx([0.05, 0.1, 1.0])  # backoff, backoff, the server's Retry-After
    cost = target.query_cost()
    assert cost["retries"] == 3 and cost["failures"] == 3 and cost["records"] == 3


def test_gives_up_naming_the_openai_section(completions_api, fault, texts) -> None:
    completions_api.faults.extend([fault(status=502)] * 3)
    with pytest.raises(TargetError, match=r"failed 3 time\(s\) in a row.*502.*model\.openai\.max_retries"):
        make(completions_api, max_retries=2, sleep=Recorder()).score(texts[:2])


def test_rate_limit_waits_exactly_the_interval(completions_api, texts) -> None:
    now = [50.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    target = make(completions_api, batch_size=2, rate_limit_per_second=4, sleep=sleep, clock=lambda: now[0])
    target.score(texts[:6])
    assert waits == pytest.approx([0.25, 0.25])
    assert target.query_cost()["throttle_seconds"] == pytest.approx(0.5)


def test_query_budget_counts_texts_and_stops_before_sending(completions_api, texts) -> None:
    target = make(completions_api, query_budget=8)
    target.score(texts[:5])
    sent = len(completions_api.seen)
    with pytest.raises(QueryBudgetExceeded, match=r"model\.openai\.query_budget of 8.*5 already sent, 3 left"):
        target.score(texts[5:10])
    assert len(completions_api.seen) == sent
    target.generate(texts[:3], max_new_tokens=2)
    assert target.remaining_budget() == 0


def test_credential_from_the_environment_never_leaks(completions_api, secret, fault, texts, caplog) -> None:
    env, value = secret
    caplog.set_level(logging.DEBUG)
    completions_api.token = value
    target = make(completions_api, auth_env=env)
    target.score(texts[:1])
    assert completions_api.seen[-1].headers["Authorization"] == f"Bearer {value}"
    completions_api.token = "another-key"
    outputs = [repr(target), str(target.query_cost()), repr(vars(target)), target.name]
    with pytest.raises(TargetError) as refused:
        target.score(texts[:1])
    assert "401" in str(refused.value) and env in str(refused.value)
    outputs.append(str(refused.value))
    completions_api.faults.extend([fault(status=500)] * 6)
    with pytest.raises(TargetError) as failed:
        make(completions_api, auth_env=env, max_retries=1, sleep=Recorder()).score(texts[:1])
    outputs.append(str(failed.value))
    with pytest.raises(TypeError):
        pickle.dumps(target._http.secret)
    outputs.extend(r.getMessage() for r in caplog.records)
    outputs.append(caplog.text)
    assert caplog.records
    for text in outputs:
        assert value not in text


def test_missing_credential_names_the_variable(completions_api, monkeypatch) -> None:
    monkeypatch.delenv("CMIA_UNSET_LM_KEY", raising=False)
    with pytest.raises(TargetError, match="model.openai.auth_env names the environment variable CMIA_UNSET_LM_KEY"):
        make(completions_api, auth_env="CMIA_UNSET_LM_KEY")


def test_a_chat_endpoint_is_refused_clearly(completions_api, texts) -> None:
    completions_api.mode = "chat"
    with pytest.raises(TargetError, match=r"choices\[0\]\.logprobs is null: the server returned no log-probabilities "
                                          r"\(this looks like a chat endpoint\).*echo"):
        make(completions_api).score(texts[:2])


def test_mismatched_token_counts_are_refused(completions_api, texts) -> None:
    completions_api.mode = "mismatch"
    with pytest.raises(TargetError, match=r"choices\[0\]\.logprobs has \d+ token\(s\) but \d+ token_logprobs"):
        make(completions_api).score(texts[:1])


def test_missing_top_logprobs_are_refused_when_asked(completions_api, texts) -> None:
    completions_api.mode = "no_top"
    target = make(completions_api)
    assert target.score(texts[:1])[0].top_logprobs is None  # not asked: fine
    with pytest.raises(TargetError, match="no top_logprobs.*top 3"):
        target.score(texts[:1], top_k=3)


def test_wrong_path_says_to_check_the_url(completions_api, texts) -> None:
    target = OpenAICompletionsLM(completions_api.url.replace("/v1/completions", "/v1/chat"), model="m")
    opened(target)
    with pytest.raises(TargetError, match=r"404.*check model\.openai\.url"):
        target.score(texts[:1])


def test_configuration_errors() -> None:
    with pytest.raises(TargetError, match="user name or password"):
        OpenAICompletionsLM("https://u:p@example.invalid/v1/completions", model="m")
    with pytest.raises(TargetError, match="must start with http"):
        OpenAICompletionsLM("ftp://example.invalid", model="m")
