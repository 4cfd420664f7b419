"""An attack's own model fits, run side by side on local worker processes.

Some attacks fit models of their own besides the reference models: QMIA's two
quantile regressors, the combined attack's cross-fitted median regressor for
every pseudo-target. In the what-if analysis they are fitted again under every
output control, so on the demo they cost more than the reference models do.
Each fit is independent and seeded, so they run in parallel exactly like
reference training, on the policy's workers (``reference_models.n_jobs``),
and the results come back in task order.

Results must not depend on where a fit ran. A histogram gradient-boosting fit
sums gradients in parallel over OpenMP threads, and a different thread count
may add them in a different order; so every fit here runs on exactly one
OpenMP thread, in a worker or in this process alike, and the figures are the
same on a laptop, a 64-core server, one worker or many.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compliance_mia.policy.schema import AttacksSpec

__all__ = ["fit_workers", "one_thread", "run_fits"]

#: below this many rows per fit, shipping the task to a process costs more than the fit
MIN_ROWS_FOR_WORKERS = 2_000


def fit_workers(settings: AttacksSpec | None) -> int:
    """Worker processes for an attack's own fits: the reference models' ``n_jobs``.

    ``sequential`` and ``threading`` policies fit in this process (a thread
    would not help: the quantile loss updates its leaves in Python, under the
    GIL). Cluster backends (dask, ray) still fit locally: the data are small
    and already here.
    """
    if settings is None:
        return 1
    spec = settings.reference_models
    if spec.backend in ("sequential", "threading"):
        return 1
    cores = os.cpu_count() or 1
    return cores if spec.n_jobs is None or spec.n_jobs < 0 else max(1, spec.n_jobs)


def one_thread(func: Callable[..., Any], *args: Any) -> Any:
    """``func(*args)`` with OpenMP (and BLAS) limited to one thread, wherever it runs."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return func(*args)


def run_fits(
    calls: Sequence[tuple[Callable[..., Any], tuple]], *, workers: int, rows: int = MIN_ROWS_FOR_WORKERS
) -> list[Any]:
    """``[func(*args) for func, args in calls]``, each on one thread, on up to ``workers`` processes.

    Every ``func`` must be a module-level function (workers import it).
    ``rows`` is the size of one fit: small fits stay in this process, where
    they are cheaper than the hand-off. The answer is the same either way.
    """
    n = min(workers, len(calls))
    if n <= 1 or rows < MIN_ROWS_FOR_WORKERS:
        return [one_thread(func, *args) for func, args in calls]
    from joblib import Parallel, delayed

    return list(Parallel(n_jobs=n, backend="loky")(delayed(one_thread)(func, *args) for func, args in calls))
