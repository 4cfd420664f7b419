"""Where reference models are trained: joblib over local processes, threads, dask or ray.

Training is the only expensive step of an assessment, and it is embarrassingly
parallel: every task is self-contained and seeded, so this module only has to
run a list of tasks somewhere and hand back their results *in task order*.
Keeping the choice of backend here means the reference set never knows which
backend trained it, and results are bit-identical on every backend and worker
count.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from compliance_mia.reference._errors import ReferenceModelError

BACKENDS = ("loky", "threading", "sequential", "dask", "ray")
#: backends whose workers share this machine's filesystem (they may write the cache themselves)
LOCAL_BACKENDS = ("loky", "threading", "sequential")

__all__ = ["BACKENDS", "LOCAL_BACKENDS", "run_tasks"]


def _workers(n_jobs: int | None) -> int:
    return max(1, os.cpu_count() or 1) if n_jobs is None or n_jobs < 0 else max(1, n_jobs)


def run_tasks(
    func: Callable[..., Any],
    tasks: list[tuple],
    *,
    backend: str,
    n_jobs: int,
    scheduler_address: str | None,
    progress: Callable[[int, int], None] | None,
) -> list[Any]:
    """``[func(*task) for task in tasks]`` on the chosen joblib backend, in task order.

    Parameters
    ----------
    func : a picklable, module-level function (process and remote workers import it).
    backend : one of :data:`BACKENDS`; ``dask`` starts a local cluster unless
        ``scheduler_address`` names one, ``ray`` connects to ``scheduler_address``
        or starts Ray locally.
    progress : called with (done, total) after every finished task.

    Raises
    ------
    ReferenceModelError
        For an unknown backend, or an optional backend that is not installed
        (with the extra to install).
    """
    from joblib import Parallel, delayed, parallel_config

    if backend not in BACKENDS:
        raise ReferenceModelError(f"unknown backend '{backend}'; use one of {', '.join(BACKENDS)}")
    total = len(tasks)

    def collect(results: Iterator[Any]) -> list[Any]:
        out = []
        for item in results:
            out.append(item)
            if progress is not None:
                progress(len(out), total)
        return out

    calls = (delayed(func)(*task) for task in tasks)
    if backend == "sequential" or (total <= 1 and backend in ("loky", "threading")):
        with parallel_config(backend="sequential"):
            return collect(Parallel(n_jobs=1, return_as="generator")(calls))
    if backend in ("loky", "threading"):
        with parallel_config(backend=backend, n_jobs=min(_workers(n_jobs), total)):
            return collect(Parallel(return_as="generator")(calls))
    if backend == "dask":
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ReferenceModelError(
                "the dask backend needs dask.distributed: pip install 'compliance-mia[dask]'"
            ) from None
        if scheduler_address:
            client = Client(scheduler_address)
            cluster = None
        else:
            cluster = LocalCluster(
                n_workers=min(_workers(n_jobs), total),
                threads_per_worker=1,
                processes=False,
                dashboard_address=None,
            )
            client = Client(cluster)
        try:
            with parallel_config(backend="dask"):
                return collect(Parallel(return_as="generator")(calls))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    # ray
    try:
        import ray
    except ImportError:
        raise ReferenceModelError(
            "the ray backend needs Ray: pip install 'compliance-mia[ray]'"
        ) from None
    if not ray.is_initialized():
        ray.init(address=scheduler_address, include_dashboard=False, log_to_driver=False)
    return _run_on_ray(ray, func, tasks, progress)


def _run_on_ray(
    ray: Any, func: Callable[..., Any], tasks: list[tuple], progress: Callable[[int, int], None] | None
) -> list[Any]:
    """Ray tasks, one per task tuple, results in task order.

    Ray's joblib plugin cannot stream results (``return_as="generator"``), so
    tasks go to Ray directly. An argument shared by several tasks (the audit
    and population records every model predicts on) is put in Ray's object
    store once rather than serialised with every task.
    """
    shared: dict[int, Any] = {}
    counts: dict[int, int] = {}
    for task in tasks:
        for arg in task:
            counts[id(arg)] = counts.get(id(arg), 0) + 1
    remote = ray.remote(func)

    def arg_ref(arg: Any) -> Any:
        if arg is None or counts[id(arg)] < 2 or isinstance(arg, (bool, int, float, str)):
            return arg
        if id(arg) not in shared:
            shared[id(arg)] = ray.put(arg)
        return shared[id(arg)]

    refs = [remote.remote(*(arg_ref(a) for a in task)) for task in tasks]
    pending = list(refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        if progress is not None:
            progress(len(refs) - len(pending), len(refs))
    return list(ray.get(refs))
