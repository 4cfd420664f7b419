"""The attacker's reference models as she sees them: through the deployed exposure.

An attacker who mimics the deployed API with her own models sees from those
models what the API shows, not more: with a label-only API she learns her
models' labels, with rounded probabilities their rounded probabilities. The
runner therefore never hands attacks a :class:`~compliance_mia.reference.ReferenceSet`
(raw probability arrays and fitted models) but an :class:`ExposedReferences`
view whose every output has passed through :meth:`Exposure.apply
<compliance_mia.exposure.Exposure.apply>` with the record labels the attacker
knows. What the view offers besides outputs is what the attacker decided
herself: how many models, in which mode, and which records each trained on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compliance_mia.exposure import Exposure, Outputs
from compliance_mia.reference._set import ReferenceSet

__all__ = ["ExposedReferences"]


class ExposedReferences:
    """Reference models of one mode, reduced to what ``exposure`` reveals.

    Parameters
    ----------
    references : the trained reference set (kept private: no attribute of
        this view returns raw outputs or fitted models).
    exposure : the deployed model's exposure, applied to every output.
    y_index : true-class positions of the audit records (used by the loss
        exposure, never stored in an output).
    population_y_index : the same for the population records (None without
        population data).

    Attributes
    ----------
    count : number of reference models.
    mode : "offline" or "online".
    audit_in, population_in : ndarray of shape (K, n), bool, read-only
        Which records model ``k`` trained on: the attacker chose them, so she
        knows them (``audit_in`` is all False offline).
    """

    __slots__ = ("__references", "__exposure", "__y_index", "__population_y_index",
                 "count", "mode", "audit_in", "population_in")

    def __init__(
        self,
        references: ReferenceSet,
        exposure: Exposure,
        y_index: np.ndarray,
        population_y_index: np.ndarray | None,
    ) -> None:
        self.__references = references
        self.__exposure = exposure
        self.__y_index = y_index
        self.__population_y_index = population_y_index
        self.count: int = references.count
        self.mode: str = references.mode
        self.audit_in: np.ndarray = _read_only(references.audit_in)
        self.population_in: np.ndarray = _read_only(references.population_in)

    def audit_outputs(self, k: int) -> Outputs:
        """Model ``k``'s outputs on the audit records, as the deployed API would return them."""
        return self.__exposure.apply(self.__references.raw_audit(k), self.__y_index)

    def population_outputs(self, k: int) -> Outputs:
        """Model ``k``'s outputs on the population records, as the deployed API would return them."""
        if self.__population_y_index is None:
            raise ValueError("these reference models were exposed without population records")
        return self.__exposure.apply(self.__references.raw_population(k), self.__population_y_index)

    def query(self, k: int, X: pd.DataFrame, y_index: np.ndarray | None = None) -> Outputs:
        """Model ``k``'s outputs on new inputs ``X`` (e.g. perturbed records), via the exposure.

        ``y_index`` (true-class positions of ``X``) is only read by the loss
        exposure, as for the target.
        """
        return self.__exposure.apply(self.__references.raw_query(k, X), y_index)

    def __repr__(self) -> str:
        return f"ExposedReferences(count={self.count}, mode={self.mode!r}, exposure={self.__exposure!r})"


def _read_only(array: np.ndarray) -> np.ndarray:
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view
