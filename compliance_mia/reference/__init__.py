"""Reference (shadow) models: the attacker's own copies of the target's estimator.

The package is split by job:

* :mod:`._set` — which records each model trains on (membership matrices),
  training through a backend, and the :class:`ReferenceSet` of raw outputs;
* :mod:`.cache` — :class:`ReferenceCache`, trained models on disk keyed by
  content and verified on read;
* :mod:`.backends` — running the training tasks on joblib (loky, threading,
  sequential, dask, ray);
* :mod:`.exposed` — :class:`ExposedReferences`, the only form in which attacks
  see reference models: every output reduced to the deployed exposure.

Existing imports (``from compliance_mia.reference import ...``) keep working.
"""

from compliance_mia.cache import default_cache_dir
from compliance_mia.estimators import estimator_from_spec
from compliance_mia.reference._errors import ReferenceModelError
from compliance_mia.reference._set import (
    MODES,
    ReferenceSet,
    aligned_probabilities,
    build_reference_set,
    membership_matrix,
    seeded,
)
from compliance_mia.reference.backends import BACKENDS
from compliance_mia.reference.cache import ReferenceCache
from compliance_mia.reference.exposed import ExposedReferences

__all__ = [
    "BACKENDS",
    "MODES",
    "ExposedReferences",
    "ReferenceCache",
    "ReferenceModelError",
    "ReferenceSet",
    "aligned_probabilities",
    "build_reference_set",
    "default_cache_dir",
    "estimator_from_spec",
    "membership_matrix",
    "seeded",
]
