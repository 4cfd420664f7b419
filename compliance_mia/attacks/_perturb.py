"""Small random perturbations of tabular records, for the label-only robustness attack.

A model's decision is usually more stable around its training records than
around unseen ones. To measure that stability through labels alone, each
record is sent several times with a little noise: Gaussian noise of
``noise × spread`` on continuous columns (spread = the column's standard
deviation in the attacker's background data; integer columns are rounded
back), and, on categorical or few-valued columns, a switch to another
observed value with probability ``noise``. Everything is drawn from a
seeded stream, so the same records get the same perturbations in every run
and for every model queried (target and reference models see identical
inputs, which keeps their comparison sharp).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: numeric columns with at most this many distinct values are treated as categorical
MAX_CATEGORY_LEVELS = 10


@dataclass(frozen=True)
class Perturber:
    """How each column is perturbed, learnt from the attacker's background data."""

    noise: float
    spreads: dict[str, float]  #: continuous column → standard deviation
    levels: dict[
        str, np.ndarray
    ]  #: categorical column → observed values (with repeats: frequency-weighted)
    integer: frozenset[str]

    @classmethod
    def fit(cls, background: pd.DataFrame, *, noise: float) -> Perturber:
        import pandas as pd

        spreads: dict[str, float] = {}
        levels: dict[str, np.ndarray] = {}
        integer: set[str] = set()
        for column in background.columns:
            values = background[column]
            numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(
                values
            )
            if numeric and values.nunique(dropna=True) > MAX_CATEGORY_LEVELS:
                spread = float(np.nanstd(values.to_numpy(dtype=float)))
                spreads[column] = spread if np.isfinite(spread) else 0.0
                if pd.api.types.is_integer_dtype(values):
                    integer.add(column)
            else:
                observed = values.dropna().to_numpy()
                if len(observed):
                    levels[column] = observed
        return cls(noise=noise, spreads=spreads, levels=levels, integer=frozenset(integer))

    def perturb(self, X: pd.DataFrame, copies: int, gen: np.random.Generator) -> pd.DataFrame:
        """``copies`` perturbed copies of each row; row ``i·copies + j`` is copy ``j`` of ``i``."""
        import pandas as pd

        out = X.iloc[np.repeat(np.arange(len(X)), copies)].reset_index(drop=True)
        n = len(out)
        for column in X.columns:  # fixed column order: the draws do not depend on dict order
            if column in self.spreads:
                scale = self.noise * self.spreads[column]
                noisy = out[column].to_numpy(dtype=float) + gen.normal(0.0, 1.0, n) * scale
                if column in self.integer:
                    if np.isnan(noisy).any():
                        out[column] = noisy
                    else:
                        out[column] = np.round(noisy).astype(out[column].dtype)
                else:
                    out[column] = noisy
            elif column in self.levels:
                flip = gen.random(n) < self.noise
                pool = self.levels[column]
                picks = pool[gen.integers(0, len(pool), n)]
                if flip.any():
                    column_values = out[column].to_numpy(dtype=object, copy=True)
                    column_values[flip] = picks[flip]
                    out[column] = pd.Series(column_values, dtype=X[column].dtype)
        return out
