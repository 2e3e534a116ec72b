"""Many variants at once: in this process, on a local process pool, or on a Dask cluster.

Every route gives the same table (tests compare a Dask ``LocalCluster`` with the local pool).
The data travels to each worker process once; each builds its :class:`~.engine.ManyEngine`
on its first chunk and keeps it; a chunk of variants travels out and one small record per
variant comes back (docs/scaling.md says what travels where).
"""

from __future__ import annotations

import math
import multiprocessing
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

import pandas as pd

from procure.analysis.many.engine import RECORD_FIELDS, Extract, ManyEngine
from procure.analysis.many.variants import Variant
from procure.data.tables import ProcureData

#: ``progress(done, total)``: called after each variant (in process) or each chunk (pools)
Progress = Callable[[int, int], None]


def solve_variants(
    data: ProcureData,
    variants: Iterable[Variant],
    *,
    workers: int = 1,
    scheduler=None,
    progress: Progress | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    extract: Extract | None = None,
    chunk: int | None = None,
    engine_options: dict | None = None,
) -> pd.DataFrame:
    """Solve every variant; one row per variant, in the order given: ``label``, ``status``,
    ``cost`` (NaN without a plan), ``gap`` (proven relative gap), ``seconds``, ``path``
    ("bounds", "mip", "literal", "empty"), ``nodes``, ``value`` (what ``extract`` returned) and
    ``cpu_seconds``.

    ``workers > 1``: that many local processes (spawned; one HiGHS thread each).
    ``scheduler``: a Dask scheduler address (``"tcp://host:8786"``) or a
    ``distributed.Client``; the variants then run on that cluster's workers.
    ``chunk``: variants per task (default: enough tasks for a smooth progress bar and an even
    load, at most 64 variants each). Consecutive variants of a chunk run on one warm LP, so
    order them so that neighbours differ little.
    ``engine_options``: more keywords of :class:`~.engine.ManyEngine` (``lazy_n1``,
    ``branching``, ...), to measure what each part of the search saves.
    """
    variants = list(variants)
    options = dict(mip_gap=mip_gap, time_limit=time_limit, extract=extract, **(engine_options or {}))
    total = len(variants)
    if scheduler is not None:
        records = _on_dask(scheduler, data, variants, options, chunk, progress)
    elif workers > 1 and total > 1:
        records = _on_pool(data, variants, options, workers, chunk, progress)
    else:
        records = []
        engine = ManyEngine(data, **options) if total else None
        for k, variant in enumerate(variants):
            records.append(engine.solve(variant).record())
            if progress is not None:
                progress(k + 1, total)
    if progress is not None and total == 0:
        progress(0, 0)
    return pd.DataFrame.from_records(records, columns=list(RECORD_FIELDS)) if records else \
        pd.DataFrame({name: pd.Series(dtype=object) for name in RECORD_FIELDS})


def _chunks(variants: Sequence[Variant], size: int | None, parallel: int) -> list[list[Variant]]:
    if size is None:
        size = max(1, min(64, math.ceil(len(variants) / (8 * max(1, parallel)))))
    return [list(variants[k:k + size]) for k in range(0, len(variants), size)]


# -- local processes --------------------------------------------------------------------------

_WORKER: dict = {}


def _init_worker(data: ProcureData, options: dict) -> None:
    _WORKER.clear()
    _WORKER.update(data=data, options=options, engine=None)


def _run_in_worker(variants: list[Variant]) -> list[tuple]:
    if _WORKER["engine"] is None:
        # one HiGHS thread per worker process: the workers already use every core
        _WORKER["engine"] = ManyEngine(_WORKER["data"], threads=1, **_WORKER["options"])
    engine = _WORKER["engine"]
    return [engine.solve(v).record() for v in variants]


def _on_pool(data, variants, options, workers, chunk, progress) -> list[tuple]:
    chunks = _chunks(variants, chunk, workers)
    results: list[list[tuple] | None] = [None] * len(chunks)
    done = 0
    # spawn, not fork: a forked child inherits HiGHS's thread scheduler from the parent
    # without its threads, and its solves then fail
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context,
                               initializer=_init_worker, initargs=(data, options))
    try:
        pending = {pool.submit(_run_in_worker, c): k for k, c in enumerate(chunks)}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                k = pending.pop(future)
                results[k] = future.result()
                done += len(results[k])
                if progress is not None:
                    progress(done, len(variants))
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)
    return [r for part in results for r in part]


def _stop(pool: ProcessPoolExecutor) -> None:
    """The pool's work abandoned at once: chunks not started cancelled, running workers
    terminated. Leaving the pool's block would wait for every chunk: a Streamlit page whose
    user clicks elsewhere (the progress bar raises Streamlit's stop in this thread) or a
    Ctrl-C would hang until the whole run had finished in the background. (The worker list
    is the executor's own attribute: Python 3.14 names this ``terminate_workers``.)"""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=10)


# -- Dask -------------------------------------------------------------------------------------

#: engines kept by each Dask worker process, by data key (the newest few data sets)
_ENGINES: dict[str, ManyEngine] = {}
_KEEP = 4


def _run_on_dask(key: str, data: ProcureData, variants: list[Variant], options: dict) -> list[tuple]:
    engine = _ENGINES.get(key)
    if engine is None:
        while len(_ENGINES) >= _KEEP:
            _ENGINES.pop(next(iter(_ENGINES)))
        engine = _ENGINES[key] = ManyEngine(data, threads=1, **options)
    return [engine.solve(v).record() for v in variants]


def _on_dask(scheduler, data, variants, options, chunk, progress) -> list[tuple]:
    from distributed import Client, as_completed

    own = not hasattr(scheduler, "submit")
    client = Client(scheduler) if own else scheduler
    futures: dict = {}
    try:
        parallel = max(1, len(client.scheduler_info().get("workers", {})))
        chunks = _chunks(variants, chunk, parallel)
        key = uuid.uuid4().hex
        shipped = client.scatter(data, broadcast=True)
        futures = {client.submit(_run_on_dask, key, shipped, c, options, pure=False): k
                   for k, c in enumerate(chunks)}
        results: list[list[tuple] | None] = [None] * len(chunks)
        done = 0
        for future in as_completed(list(futures)):
            k = futures[future]
            results[k] = future.result()
            done += len(results[k])
            if progress is not None:
                progress(done, len(variants))
        return [r for part in results for r in part]
    except BaseException:
        # interrupted (see _stop): the chunks left are no use to anyone on a shared cluster
        client.cancel(list(futures))
        raise
    finally:
        if own:
            client.close()
