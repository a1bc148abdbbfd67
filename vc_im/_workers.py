"""The worker processes of a batch: chunks of lines go out, their results come back in
input order, with a bounded number of chunks in flight (memory stays flat), and a worker
that dies ends the batch with :class:`WorkerLost`, never a hang."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from vc_im.errors import InputError, VcImError

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

#: Chunks in flight per worker: enough to keep every worker busy, few enough that memory
#: does not grow with the input.
CHUNKS_PER_WORKER = 4

T = TypeVar("T")
R = TypeVar("R")
J = TypeVar("J")


class WorkerLost(VcImError):
    """A worker process died (killed, out of memory): the batch stops, and says where."""

    code = "worker_lost"
    exit_code = 2


def resolve_jobs(jobs: int) -> int:
    """``jobs`` worker processes; 0 means one per core this process may use."""
    if jobs < 0:
        raise InputError("--jobs must be 0 (one per core) or a positive number.")
    if jobs:
        return jobs
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


#: The collector's thresholds in a process that runs a batch. A line allocates a few
#: thousand short-lived objects and almost no cycles, so the default (a young collection
#: every 700 allocations, each older one walking every object loaded) costs a few percent
#: of a batch; cycles are still collected, every 20,000 allocations.
BATCH_GC_THRESHOLDS = (20_000, 50, 100)


def tune_collector() -> None:
    """Set the collector for a batch in this process (a worker, or the command that runs a
    batch itself): what is loaded so far (modules, contexts, validators) is frozen, never to
    be walked again, and young collections are rarer. Process-wide, so the library calls it
    only in the worker processes it starts."""
    import gc

    gc.freeze()
    gc.set_threshold(*BATCH_GC_THRESHOLDS)


#: In a worker process: what the batch's work function needs besides the lines (set once).
_WORKER_JOB: list[object] = []


def _init_worker(job: object) -> None:
    """Run once in each worker: library warnings are not the user's business there either."""
    import warnings

    warnings.simplefilter("ignore")
    tune_collector()
    _WORKER_JOB[:] = [job]


def _in_worker(work: Callable[[Any, int, Any], list[R]], first: int, lines: Any) -> list[R]:
    return work(_WORKER_JOB[0], first, lines)


#: A chunk: the number of its first line, and its lines as a worker gets them.
Chunk = tuple[int, Sequence[Any]]


def run(numbered: Iterable[Chunk], work: Callable[[J, int, Any], list[R]], job: J, *,
        jobs: int) -> Iterator[tuple[Chunk, list[R]]]:
    """Each chunk with its results, ``work(job, first, lines)``, in input order: here with
    one job, else in a pool of ``jobs`` worker processes with a bounded number of chunks in
    flight."""
    if jobs <= 1:
        for chunk in numbered:
            yield chunk, work(job, *chunk)
        return
    pool = _start_pool(jobs, job)
    in_flight: deque[tuple[Chunk, Future[list[R]]]] = deque()
    try:
        for chunk in numbered:
            in_flight.append((chunk, _submit(pool, work, chunk)))
            while len(in_flight) >= jobs * CHUNKS_PER_WORKER:
                yield _collect(*in_flight.popleft())
        while in_flight:
            yield _collect(*in_flight.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start_pool(jobs: int, job: object) -> ProcessPoolExecutor:
    """Workers forked from this process (they inherit the loaded trust store, contexts and
    validators) where the platform can, else spawned."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(method),
                               initializer=_init_worker, initargs=(job,))


def _submit(pool: ProcessPoolExecutor, work: Callable[[J, int, Any], list[R]],
            chunk: Chunk) -> Future[list[R]]:
    from concurrent.futures.process import BrokenProcessPool

    try:
        return pool.submit(_in_worker, work, chunk[0], chunk[1])
    except BrokenProcessPool as exc:
        raise _lost(chunk) from exc


def _collect(chunk: Chunk, future: Future[list[R]]) -> tuple[Chunk, list[R]]:
    from concurrent.futures.process import BrokenProcessPool

    try:
        return chunk, future.result()
    except BrokenProcessPool as exc:
        raise _lost(chunk) from exc


def _lost(chunk: Chunk) -> WorkerLost:
    return WorkerLost(f"a worker process died; line {chunk[0]} and the lines after it were "
                      "not processed.")
