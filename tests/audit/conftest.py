"""Fixtures for the one-run privacy audit's tests."""

from __future__ import annotations

import numpy as np
import pytest


def import_diffprivlib():
    """diffprivlib, made importable under scikit-learn ≥ 1.8.

    diffprivlib 0.6.6 imports ``DOUBLE`` and ``DTYPE`` from
    ``sklearn.tree._tree`` at package import (for its forest models), names
    scikit-learn 1.8 removed. They are restored (the dtypes they named) only
    if missing; the models used here (GaussianNB) never read them.
    """
    import sklearn.tree._tree as tree

    for name, dtype in (("DOUBLE", np.float64), ("DTYPE", np.float32)):
        if not hasattr(tree, name):
            setattr(tree, name, dtype)
    import diffprivlib

    return diffprivlib


@pytest.fixture(scope="session")
def diffprivlib():
    return import_diffprivlib()


@pytest.fixture(scope="session")
def tabular():
    """Breast-cancer records: 200 training members and a pool the canaries' values are drawn from."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    X = bunch.data.rename(columns=lambda c: c.replace(" ", "_"))
    y = np.where(bunch.target == 1, "benign", "malignant")
    order = np.random.default_rng(0).permutation(len(X))
    members, rest = order[:200], order[200:]
    return X.iloc[members].reset_index(drop=True), y[members], X.iloc[rest].reset_index(drop=True), y[rest]
