"""HTTP prediction API target against a real server on 127.0.0.1."""

from __future__ import annotations

import logging
import pickle
import time

import numpy as np
import pytest
from _loopback import Recorder, opened

from compliance_mia.errors import ComplianceMiaError, QueryBudgetExceeded, TargetError
from compliance_mia.policy.schema import HttpTargetSpec
from compliance_mia.targets.http import HttpTarget, resolve_path
from compliance_mia.targets.httpclient import QueryBudget

CLASSES = ["benign", "malignant"]


def make(api, **overrides) -> HttpTarget:
    """An HTTP target on the fake API (closed after the test)."""
    fields = {
        "url": api.url,
        "probabilities_path": "predictions",
        "label_path": "labels",
        "batch_size": 64,
        "timeout_seconds": 2.0,
        "backoff_seconds": 0.01,
        **overrides,
    }
    sleep = fields.pop("sleep", time.sleep)
    target = HttpTarget(HttpTargetSpec(**fields), classes=CLASSES, sleep=sleep)
    return opened(target)


def test_answers_match_the_model_in_batches(demo, api) -> None:
    X = demo.audit[demo.features]
    target = make(api)
    raw = target.raw_outputs(X)
    np.testing.assert_array_equal(raw.probabilities, demo.model.predict_proba(X))
    assert len(api.seen) == int(np.ceil(len(X) / 64))  # batches of batch_size
    assert max(s.n_records for s in api.seen) == 64
    assert target.queries == len(X)
    cost = target.query_cost()
    assert cost["records"] == len(X) and cost["requests"] == len(api.seen) and cost["retries"] == 0


def test_lists_nested_paths_and_custom_template(demo, api) -> None:
    api.layout, api.records_key = "nested", "inputs.rows"
    X = demo.non_members[demo.features].iloc[:50]
    target = make(
        api,
        request_template={"inputs": {"rows": "$records"}, "options": {"explain": False}},
        records_as="lists",
        probabilities_path="result.items.*.probs",
        label_path="result.items.*.label",
    )
    raw = target.raw_outputs(X)
    np.testing.assert_array_equal(raw.probabilities, demo.model.predict_proba(X))
    np.testing.assert_array_equal(raw.labels, demo.model.predict_proba(X).argmax(axis=1))


def test_label_only_api(demo, api) -> None:
    X = demo.members[demo.features].iloc[:30]
    raw = make(api, probabilities_path=None).raw_outputs(X)
    assert raw.probabilities is None
    np.testing.assert_array_equal(raw.labels, demo.model.predict_proba(X).argmax(axis=1))


def test_survives_500s_timeouts_drops_and_429(demo, api, fault) -> None:
    api.faults.extend(
        [
            fault(status=500),
            fault(delay=0.6),  # longer than the client's timeout
            fault(status=503),
            fault(drop=True),
            fault(status=429, retry_after="1"),
        ]
    )
    sleep = Recorder()
    X = demo.audit[demo.features].iloc[:100]
    target = make(api, timeout_seconds=0.3, sleep=sleep, max_retries=5, backoff_seconds=0.05)
    raw = target.raw_outputs(X)
    np.testing.assert_array_equal(raw.probabilities, demo.model.predict_proba(X))
    cost = target.query_cost()
    assert cost["retries"] == 5 and cost["failures"] == 5
    # exponential backoff, then the server's Retry-After (1 s) honoured exactly
    assert sleep.waits == pytest.approx([0.05, 0.1, 0.2, 0.4, 1.0])
    assert cost["backoff_seconds"] == pytest.approx(1.75)


def test_gives_up_with_a_clear_message(demo, api, fault) -> None:
    api.faults.extend([fault(status=502)] * 3)
    target = make(api, max_retries=2, sleep=Recorder())
    with pytest.raises(TargetError, match=r"failed 3 time\(s\) in a row.*502.*max_retries"):
        target.raw_outputs(demo.members[demo.features].iloc[:5])


def test_retry_after_too_long_stops_instead_of_sleeping(demo, api, fault) -> None:
    api.faults.append(fault(status=429, retry_after="86400"))
    sleep = Recorder()
    with pytest.raises(TargetError, match="asked to wait 86400 s"):
        make(api, sleep=sleep).raw_outputs(demo.members[demo.features].iloc[:5])
    assert sleep.waits == []


def test_client_errors_are_not_retried(demo, api, fault) -> None:
    api.faults.append(fault(status=422))
    with pytest.raises(TargetError, match="422.*request_template"):
        make(api).raw_outputs(demo.members[demo.features].iloc[:5])
    assert len(api.seen) == 1


def test_query_budget_stops_before_sending(demo, api) -> None:
    X = demo.audit[demo.features]
    target = make(api, query_budget=100)
    target.raw_outputs(X.iloc[:60])
    assert target.remaining_budget() == 40
    sent_before = len(api.seen)
    with pytest.raises(QueryBudgetExceeded) as info:
        target.raw_outputs(X.iloc[60:120])
    message = str(info.value)
    assert "model.http.query_budget of 100" in message and "60 already sent, 40 left" in message
    assert "Nothing more was sent" in message
    assert len(api.seen) == sent_before  # refused before any request
    target.ensure_budget(40)  # the planner can ask in advance
    with pytest.raises(QueryBudgetExceeded, match="for label-only attack"):
        target.ensure_budget(41, "label-only attack")
    target.raw_outputs(X.iloc[60:100])
    assert target.remaining_budget() == 0 and api.answered_records == 100


def test_the_shared_query_budget_names_the_budget_and_the_policy_field() -> None:
    """The one budget check (tabular and text targets): refused before sending, counted in the target's unit."""

    class Texts(QueryBudget):
        budget_source = "model.openai.query_budget"
        budget_unit = "text"

    counted = Texts()
    assert counted.remaining_budget() is None
    counted.ensure_budget(10**9)  # no budget: anything fits
    counted.query_budget, counted.queries = 10, 7
    assert counted.remaining_budget() == 3
    counted.ensure_budget(3)
    with pytest.raises(QueryBudgetExceeded) as info:
        counted.ensure_budget(4, "this batch")
    assert isinstance(info.value, TargetError)  # a user's error: the CLI prints it and exits 2
    assert str(info.value) == (
        "sending 4 more text(s) for this batch would exceed model.openai.query_budget of 10 text(s): "
        "7 already sent, 3 left. Nothing more was sent; raise the budget in the policy or audit fewer texts"
    )
    counted.queries = 12  # spent past the budget (e.g. by an answer that then failed): none left, never negative
    assert counted.remaining_budget() == 0
    records = QueryBudget()  # a tabular target's default wording
    records.query_budget = 5
    with pytest.raises(QueryBudgetExceeded, match=r"^sending 6 more record\(s\) would exceed the query budget of 5 "
                                                  r"record\(s\): 0 already sent, 5 left\..*audit fewer records$"):
        records.ensure_budget(6)


def test_client_side_rate_limit_spaces_requests(demo, api) -> None:
    target = make(api, batch_size=10, rate_limit_per_second=20)  # at most one request per 50 ms
    target.raw_outputs(demo.members[demo.features].iloc[:40])
    arrivals = [s.at for s in api.seen]
    # four requests, three 50 ms intervals; the server's clock adds scheduling jitter
    assert len(arrivals) == 4 and arrivals[-1] - arrivals[0] >= 0.1


def test_rate_limit_waits_exactly_the_interval(demo, api) -> None:
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # a clock that only moves when the client waits
        waits.append(seconds)
        now[0] += seconds

    spec = HttpTargetSpec(url=api.url, probabilities_path="predictions", batch_size=10,
                          rate_limit_per_second=4)
    target = HttpTarget(spec, classes=CLASSES, sleep=sleep, clock=lambda: now[0])
    opened(target)
    target.raw_outputs(demo.members[demo.features].iloc[:40])
    assert waits == pytest.approx([0.25, 0.25, 0.25])
    assert target.query_cost()["throttle_seconds"] == pytest.approx(0.75)


def test_auth_header_from_the_environment(demo, api, secret) -> None:
    env, value = secret
    api.token = value
    target = make(api, auth_env=env)
    target.raw_outputs(demo.members[demo.features].iloc[:5])
    assert api.seen[-1].headers["Authorization"] == f"Bearer {value}"
    custom = make(api, auth_env=env, auth_header="X-Api-Key", auth_scheme=None)
    api.token = None
    custom.raw_outputs(demo.members[demo.features].iloc[:5])
    assert api.seen[-1].headers["X-Api-Key"] == value


def test_missing_credential_names_the_variable(api, monkeypatch) -> None:
    monkeypatch.delenv("CMIA_UNSET_KEY", raising=False)
    with pytest.raises(TargetError, match="environment variable CMIA_UNSET_KEY, which is not set"):
        make(api, auth_env="CMIA_UNSET_KEY")


def test_secret_never_leaks_into_errors_logs_or_reprs(demo, api, secret, fault, caplog) -> None:
    env, value = secret
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    api.token = "a-different-key"
    target = make(api, auth_env=env, max_retries=1, sleep=Recorder())
    texts = [repr(target), str(target.query_cost()), repr(vars(target))]
    with pytest.raises(TargetError) as refused:
        target.raw_outputs(demo.members[demo.features].iloc[:5])
    texts.append(str(refused.value))
    assert "401" in str(refused.value) and env in str(refused.value)
    api.faults.extend([fault(status=500), fault(status=500)])
    with pytest.raises(TargetError) as failed:
        target.raw_outputs(demo.members[demo.features].iloc[:5])
    texts.append(str(failed.value))
    with pytest.raises(TypeError):
        pickle.dumps(target._secret)
    texts.extend(r.getMessage() for r in caplog.records)
    texts.append(caplog.text)
    assert caplog.records, "expected the HTTP stack to log something"
    for text in texts:
        assert value not in text


def test_control_characters_in_the_secret_are_refused_without_echo(api, monkeypatch) -> None:
    monkeypatch.setenv("CMIA_BAD_KEY", "abc\ndef")
    with pytest.raises(TargetError) as info:
        make(api, auth_env="CMIA_BAD_KEY")
    assert "abc" not in str(info.value)


def test_configuration_errors(api) -> None:
    with pytest.raises(TargetError, match="user name or password"):
        make(api, url="https://user:pw@example.invalid/predict")
    with pytest.raises(TargetError, match=r"\$records"):
        make(api, request_template={"instances": []})
    with pytest.raises(TargetError, match="probabilities_path or label_path"):
        make(api, probabilities_path=None, label_path=None)
    with pytest.raises(TargetError, match="model.classes is needed"):
        HttpTarget(HttpTargetSpec(url=api.url, probabilities_path="p"), classes=None)


def test_response_mapping_errors_are_explained(demo, api) -> None:
    X = demo.members[demo.features].iloc[:5]
    with pytest.raises(TargetError, match=r"'scores'.*no key 'scores'.*'predictions', 'labels'"):
        make(api, probabilities_path="scores").raw_outputs(X)
    spec = HttpTargetSpec(url=api.url, probabilities_path="predictions")
    wrong = HttpTarget(spec, classes=["a", "b", "c"])
    opened(wrong)
    with pytest.raises(TargetError, match="list of 3 numbers"):
        wrong.raw_outputs(X)


def test_tls_off_is_a_warning_for_the_assessment(api) -> None:
    target = make(api, verify_tls=False)
    warnings = target.assessment_warnings()
    assert any("TLS certificate verification was turned off" in w for w in warnings)
    assert make(api).assessment_warnings() == []


def test_connection_refused_is_retried_then_reported(demo) -> None:
    spec = HttpTargetSpec(url="http://127.0.0.1:9/predict", probabilities_path="p", max_retries=1,
                          backoff_seconds=0.0, timeout_seconds=1)
    target = HttpTarget(spec, classes=CLASSES)
    opened(target)
    with pytest.raises(ComplianceMiaError, match="connection failed"):
        target.raw_outputs(demo.members[demo.features].iloc[:2])
    assert target.query_cost()["retries"] == 1


def test_resolve_path() -> None:
    doc = {"a": {"b": [{"c": 1}, {"c": 2}]}, "l": [[1, 2], [3, 4]]}
    assert resolve_path(doc, "a.b.*.c") == [1, 2]
    assert resolve_path(doc, "l.1") == [3, 4]
    assert resolve_path(doc, "l.*.0") == [1, 3]
    with pytest.raises(KeyError, match="no key 'x'"):
        resolve_path(doc, "a.x")
    with pytest.raises(KeyError, match="not a list"):
        resolve_path(doc, "a.*")
