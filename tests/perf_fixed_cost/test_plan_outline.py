"""``plan`` reads a skops model's outline instead of loading it, and shows exactly the same plan.

The outline (class list, feature names, estimator name from the file's
schema) must equal what the loaded model says, for every kind of plain
scikit-learn file; anything less plain is declined so the model is loaded
the usual way. The plan preview built from the outline must equal the one
built from the loaded model, figure for figure.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from compliance_mia.runner import load_policy
from compliance_mia.runner.preparation import preview
from compliance_mia.targets.sklearn import OutlinedSkopsTarget, SklearnTarget, load_skops, skops_outline

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "policies" / "examples" / "target-demo"


def _frame(n: int = 60) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "colour": rng.choice(["r", "g"], n)})
    return X, rng.integers(0, 3, n)


def _models() -> dict[str, object]:
    X, y = _frame()
    labels = np.array(["low", "mid", "high"])[y]
    encode = ColumnTransformer([("cat", OneHotEncoder(), ["colour"])], remainder="passthrough")
    return {
        "pipeline, string classes": make_pipeline(encode, RandomForestClassifier(n_estimators=3, random_state=0)).fit(
            X, labels
        ),
        "plain estimator, int classes, no names": LogisticRegression().fit(X[["a", "b"]].to_numpy(), y),
        "plain estimator with names": LogisticRegression().fit(X[["a", "b"]], y > 0),
        "scaler pipeline": Pipeline([("s", StandardScaler()), ("m", LogisticRegression())]).fit(X[["a", "b"]], y),
    }


@pytest.mark.parametrize("name", sorted(_models()))
def test_outline_says_what_the_loaded_model_says(tmp_path: Path, name: str) -> None:
    file = tmp_path / "m.skops"
    sio.dump(_models()[name], file)
    outline = skops_outline(file)
    assert outline is not None
    loaded = SklearnTarget(load_skops(file))
    outlined = OutlinedSkopsTarget(outline)
    assert outlined.classes.tolist() == loaded.classes.tolist()
    assert outlined.classes.dtype == loaded.classes.dtype
    assert outlined.feature_names == loaded.feature_names
    assert outlined.estimator_name == loaded.estimator_name


def test_shipped_example_model_outline(tmp_path: Path) -> None:
    outline = skops_outline(DEMO / "model.skops")
    loaded = SklearnTarget(load_skops(DEMO / "model.skops"))
    assert outline is not None
    assert outline.classes.tolist() == loaded.classes.tolist()
    assert (outline.feature_names, outline.estimator_name) == (loaded.feature_names, loaded.estimator_name)


def test_anything_less_plain_is_declined(tmp_path: Path) -> None:
    X, y = _frame()
    declined = {
        "function": make_pipeline(FunctionTransformer(np.log1p), LogisticRegression()).fit(X[["a", "b"]].abs(), y),
        "nested": make_pipeline(make_pipeline(StandardScaler()), LogisticRegression()).fit(X[["a", "b"]], y),
        "unfitted": LogisticRegression(),
    }
    for name, model in declined.items():
        sio.dump(model, tmp_path / f"{name}.skops")
        assert skops_outline(tmp_path / f"{name}.skops") is None, name
    (tmp_path / "not-a-zip.skops").write_bytes(b"\x80\x04 pickle, not skops")
    assert skops_outline(tmp_path / "not-a-zip.skops") is None
    assert skops_outline(tmp_path / "missing.skops") is None


def _skops_policy(tmp_path: Path, **extra: str) -> Path:
    text = (ROOT / "policies" / "examples" / "pickle-trusted.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^  format: joblib.*$", "  format: skops", text)
    text = re.sub(r"(?m)^  allow_unsafe_pickle: .*\n", "", text)
    text = text.replace("target-demo/model.joblib", "target-demo/model.skops")
    text = text.replace("target-demo/", f"{DEMO.as_posix()}/")
    for old, new in extra.items():
        text = text.replace(old, new)
    file = tmp_path / "policy.yaml"
    file.write_text(text, encoding="utf-8")
    return file


def test_preview_from_the_outline_equals_the_preview_from_the_loaded_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = load_policy(_skops_policy(tmp_path))
    assert policy.model.format == "skops"
    fast = preview(policy, lift=2.0)

    import compliance_mia.runner.preparation as preparation

    monkeypatch.setattr(preparation, "_outlined_target", lambda policy: None)  # load the model, as before
    slow = preview(policy, lift=2.0)
    assert fast == slow
    assert fast.sample_size is not None and fast.sample_size.rows
    assert any(a.selected for a in fast.plan.attacks)


def test_declared_classes_are_still_checked(tmp_path: Path) -> None:
    file = _skops_policy(tmp_path, **{"model:\n": "model:\n  classes: [x, y]\n"})
    from compliance_mia.errors import TargetError

    with pytest.raises(TargetError, match="does not match the model's classes"):
        preview(load_policy(file))


def test_plan_imports_neither_scikit_learn_nor_skops(tmp_path: Path) -> None:
    policy = _skops_policy(tmp_path)
    code = (
        "from compliance_mia.runner import load_policy, preview; "
        f"preview(load_policy(r'{policy}', materialise_builtins=True)); "
        "import sys, json; print(json.dumps(sorted(m for m in sys.modules if '.' not in m)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not loaded & {"sklearn", "skops", "joblib", "matplotlib", "weasyprint"}
