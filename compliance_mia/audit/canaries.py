"""Canaries for a one-run audit of a tabular training pipeline, and their inclusion bits.

Two sources, chosen in the policy:

* ``synthetic`` (default): each canary's features are drawn column by
  column, independently, from the audit data's own values, and its label is
  drawn uniformly from the classes. Every value is one the pipeline accepts
  (categories included), but the combination is out of distribution and the
  label is noise, so a model can only fit an included canary by memorising
  it, and an excluded canary's label is a coin flip to the model. That is
  where inclusion changes the model most, which is what gives the strongest
  (largest valid) bound; no real record is reproduced.
* ``population``: real records of the population (or, without one, the
  non-members) with their true labels: the audit then measures how much the
  recipe leaks about ordinary records, which is weaker evidence against a
  DP claim because an excluded ordinary record is predicted well anyway.

Whatever the canaries, the bound is valid: differential privacy holds for
every record, so the choice changes only the audit's power.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from compliance_mia.errors import PolicyError, Problem
from compliance_mia.seeding import rng

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["inclusion_bits", "population_canaries", "synthetic_canaries"]


def inclusion_bits(m: int, *, seed: int) -> np.ndarray:
    """Each canary included with probability ½, from the policy seed (the audit's secret)."""
    return rng(seed, "privacy-audit", "inclusion").random(m) < 0.5


def synthetic_canaries(
    m: int, *, pool: pd.DataFrame, classes: np.ndarray, seed: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """``m`` records whose columns are drawn independently from ``pool``'s columns, with random labels."""
    import pandas as pd

    if len(pool) == 0 or len(classes) < 2:
        raise PolicyError(
            Problem(
                "synthetic canaries need audit records and at least two classes to draw from",
                field="privacy_audit.canary_source",
            )
        )
    gen = rng(seed, "privacy-audit", "canaries")
    columns = {}
    for column in pool.columns:
        picks = gen.integers(0, len(pool), size=m)
        columns[column] = pool[column].iloc[picks].to_numpy()
    X = pd.DataFrame(columns, columns=pool.columns)
    X = X.astype(pool.dtypes.to_dict())
    y = np.asarray(classes, dtype=object)[gen.integers(0, len(classes), size=m)]
    return X, np.asarray(y.tolist())


def population_canaries(
    m: int, *, X: pd.DataFrame, y: np.ndarray, seed: int, source: Literal["population", "non-members"]
) -> tuple[pd.DataFrame, np.ndarray]:
    """``m`` distinct real records drawn without replacement from ``X``/``y``."""
    if len(X) < m:
        raise PolicyError(
            Problem(
                f"{m} population canaries requested but the {source} hold only {len(X)} records; "
                f"lower privacy_audit.canaries to at most {len(X)} or use canary_source: synthetic",
                field="privacy_audit.canaries",
            )
        )
    picks = rng(seed, "privacy-audit", "canaries").choice(len(X), size=m, replace=False)
    return X.iloc[picks].reset_index(drop=True), np.asarray(y)[picks]
