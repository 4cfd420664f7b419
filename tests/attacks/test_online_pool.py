"""Online reference models on halves of the audit records only (attacks.reference_models.online_pool)."""

from __future__ import annotations

import numpy as np
import pytest
from attack_helpers import SEED

from compliance_mia.reference import build_reference_set
from compliance_mia.reference._errors import ReferenceModelError


def _build(model, split, pool: str, count: int = 4):
    return build_reference_set(
        estimator=model,
        surrogate=False,
        mode="online",
        count=count,
        audit=split.audit,
        population=split.population,
        classes=model.classes_,
        seed=SEED,
        backend="sequential",
        use_cache=False,
        online_pool=pool,
    )


def test_audit_pool_trains_on_halves_of_the_audit_records_only(overfit_model, split):
    refs = _build(overfit_model, split, "audit")
    n_audit = len(split.audit)
    assert refs.pool_size == n_audit
    assert not refs.population_in.any()  # population records are OUT for every model
    assert (refs.audit_in.sum(axis=1) == n_audit // 2).all()  # as many records as the target had
    assert (refs.audit_in.sum(axis=0) == 2).all()  # IN for exactly half of the 4 models
    # the models really trained on those rows: a fully grown forest fits its own half better
    p = refs.audit_raw[0][np.arange(n_audit), np.searchsorted(overfit_model.classes_, split.audit.y)]
    assert p[refs.audit_in[0]].mean() > p[~refs.audit_in[0]].mean() + 0.1


def test_default_pool_is_population_and_audit(overfit_model, split):
    refs = _build(overfit_model, split, "population-and-audit", count=2)
    assert refs.pool_size == len(split.audit) + len(split.population)
    assert refs.population_in.any()


def test_unknown_pool_is_a_located_error(overfit_model, split):
    with pytest.raises(ReferenceModelError, match="online pool 'members'"):
        _build(overfit_model, split, "members", count=2)
