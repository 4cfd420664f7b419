"""The same model, however it is reached, gives the same outputs and the same attack figures.

One random forest is reached five ways: in process, from a skops file, from
an ONNX export (skl2onnx, run by onnxruntime), through a real HTTP API on
127.0.0.1 serving it, and from a file of its predictions. Every route must
give the same raw outputs (ONNX computes in float32: within 1e-6) and the
same membership inference figures, attack by attack.

One honest exception: the ONNX graph sums tree votes in float32, so two
records whose probabilities are *equal* in float64 can differ by ~1e-7 there,
which splits a tie and moves rank-based figures by a record or two. On
outputs quantised at 1e-6 (``probabilities-6dp``) every route, ONNX included,
gives identical figures; on raw float32 outputs ONNX stays within 0.01.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from compliance_mia.attacks.base import AttackContext, get_attack
from compliance_mia.exposure import Exposure
from compliance_mia.metrics import StatisticsSettings, evaluate_attack
from compliance_mia.policy.schema import AttacksSpec
from compliance_mia.runner import load_policy
from compliance_mia.targets import class_index, open_target
from compliance_mia.targets.sklearn import SklearnTarget

pytest.importorskip("onnxruntime")

ROUTES = ["in-process", "skops", "onnx", "http", "predictions"]
CLASSES = ["benign", "malignant"]
TOLERANCE = {"onnx": 1e-6}  # float32 inside the ONNX graph; every other route within 1e-12
EXPOSURES = {
    "probabilities": Exposure(outputs="probabilities"),
    "probabilities-6dp": Exposure(outputs="probabilities", rounding=6),
    "rounded": Exposure(outputs="probabilities", rounding=1),
    "label": Exposure(outputs="label"),
}
ATTACKS = {"probabilities": ["loss", "confidence", "gap"],
           "probabilities-6dp": ["loss", "confidence", "gap"],
           "rounded": ["loss", "confidence", "gap"], "label": ["gap"]}
#: float32 tie splitting (see the module docstring): the only figures allowed to move
FIGURE_TOLERANCE = {("onnx", "probabilities"): 0.01}


def model_sections(demo, api_url: str) -> dict[str, dict]:
    """The policy's ``model`` section for each file or remote route."""
    return {
        "skops": {"format": "skops", "artifact": str(demo.files["skops"])},
        "onnx": {"format": "onnx", "artifact": str(demo.files["onnx"])},
        "http": {
            "format": "http",
            "classes": CLASSES,
            "http": {"url": api_url, "probabilities_path": "predictions", "label_path": "labels",
                     "batch_size": 128, "query_budget": 10_000},
        },
        "predictions": {
            "format": "predictions",
            "classes": CLASSES,
            "predictions": {"file": str(demo.files["predictions"]),
                            "probability_columns": ["p_benign", "p_malignant"],
                            "label_column": "predicted"},
        },
    }


@pytest.fixture(scope="module")
def routes(demo, module_api, write_policy, tmp_path_factory):
    """Every route's target and its raw outputs on the audit records (members, then non-members)."""
    directory = tmp_path_factory.mktemp("routes")
    sections = model_sections(demo, module_api.url)
    audit = demo.audit
    out = {}
    for route in ROUTES:
        if route == "in-process":
            target = SklearnTarget(demo.model)
        else:
            policy = load_policy(write_policy(directory, sections[route], name=f"{route}.yaml"))
            target = open_target(policy)
        ids = audit["record_id"].to_numpy()
        out[route] = (target, target.raw_outputs(audit[demo.features], ids))
    yield out
    for target, _ in out.values():
        target.close()


def test_every_route_is_the_adapter_the_policy_names(routes) -> None:
    kinds = {route: target.kind for route, (target, _) in routes.items()}
    assert kinds == {"in-process": "sklearn", "skops": "skops", "onnx": "onnx", "http": "http",
                     "predictions": "predictions"}
    for target, _ in routes.values():
        assert [str(c) for c in target.classes.tolist()] == CLASSES


@pytest.mark.parametrize("route", ROUTES[1:])
def test_same_raw_outputs(routes, route) -> None:
    _, reference = routes["in-process"]
    _, got = routes[route]
    np.testing.assert_allclose(got.probabilities, reference.probabilities, rtol=0,
                               atol=TOLERANCE.get(route, 1e-12))
    np.testing.assert_array_equal(got.labels, reference.labels)


def _figures(demo, target, raw, exposure_name: str) -> dict[str, dict[str, float]]:
    """AUC (scikit-learn) and the toolkit's metrics for each attack under one exposure."""
    exposure = EXPOSURES[exposure_name]
    audit = demo.audit
    y_index = class_index(target.classes, audit["diagnosis"].to_numpy())
    outputs = exposure.apply(raw, y_index)
    ctx = AttackContext(
        seed=3, classes=target.classes, exposure=exposure,
        signals=exposure.signals(len(target.classes), arbitrary_queries=False),
        audit_ids=audit["record_id"].to_numpy(), audit_X=audit[demo.features], y_index=y_index,
        target=outputs, population_X=None, population_y_index=None, population_target=None,
        query_target=None, references=None, settings=AttacksSpec(),
    )
    settings = StatisticsSettings(bootstrap_resamples=200)
    figures = {}
    for name in ATTACKS[exposure_name]:
        scores = get_attack(name)().run(ctx).scores
        metrics = evaluate_attack(scores, demo.is_member, settings=settings, seed=3, stream=name)
        figures[name] = {
            "sklearn_auc": roc_auc_score(demo.is_member, scores),
            "auc": metrics.auc.estimate,
            "auc_lower": metrics.auc.lower,
            "auc_upper": metrics.auc.upper,
            "advantage": metrics.advantage.estimate,
            **{f"tpr@{p.fpr:g}": p.tpr.estimate for p in metrics.operating_points},
        }
    return figures


@pytest.mark.parametrize("exposure_name", list(EXPOSURES))
@pytest.mark.parametrize("route", ROUTES[1:])
def test_same_attack_figures(demo, routes, route, exposure_name) -> None:
    expected = _figures(demo, *routes["in-process"], exposure_name)
    got = _figures(demo, *routes[route], exposure_name)
    assert got.keys() == expected.keys()
    tolerance = FIGURE_TOLERANCE.get((route, exposure_name), 1e-9)
    for attack, figures in expected.items():
        for key, value in figures.items():
            if value is None:
                assert got[attack][key] is None, (attack, key)
            else:
                assert got[attack][key] == pytest.approx(value, abs=tolerance), (attack, key)
    # the model does leak: the comparison is not between two flat lines
    assert expected["gap"]["sklearn_auc"] > 0.52


def test_query_counts(routes, demo) -> None:
    n = len(demo.audit)
    for route, (target, _) in routes.items():
        assert target.queries == n, route
    http_cost = routes["http"][0].query_cost()
    assert http_cost["records"] == n and http_cost["requests"] == int(np.ceil(n / 128))
    assert routes["http"][0].remaining_budget() == 10_000 - n
