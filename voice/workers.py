"""The one bounded thread pool for CPU-heavy engine work (STT, TTS, VAD).

Engine calls never run on the event loop: ``await run(fn, *args)``. The pool
is per process and small on purpose — its size (``voice.threads``, default 2)
should match the cores given to speech, and each engine is configured to use
one thread per call, so N pool threads never oversubscribe N cores however
many calls are active. Work beyond that queues here, in FIFO order.

Call :func:`configure` once at start-up (before the first :func:`run`) to
apply ``settings.voice.threads``; without it the pool has 2 threads.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar, TypeVarTuple

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

DEFAULT_THREADS = 2

_lock = threading.Lock()
_threads = DEFAULT_THREADS
_executor: ThreadPoolExecutor | None = None
_queued = 0
_running = 0
_done = 0


@dataclass(frozen=True, slots=True)
class PoolStats:
    threads: int
    queued: int
    """Submitted jobs not yet started (the backlog every new job waits behind)."""
    running: int
    done: int


def configure(threads: int) -> None:
    """Set the pool size (``settings.voice.threads``). Replaces an idle pool; running
    jobs of a replaced pool still finish."""
    global _threads, _executor
    if threads < 1:
        raise ValueError("voice.threads must be at least 1")
    with _lock:
        _threads = threads
        old, _executor = _executor, None
    if old is not None:
        old.shutdown(wait=False)


def executor() -> ThreadPoolExecutor:
    """The process's pool, created on first use."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=_threads, thread_name_prefix="loket-voice")
        return _executor


def _counted(call: Callable[[], T]) -> T:
    global _queued, _running, _done
    with _lock:
        _queued -= 1
        _running += 1
    try:
        return call()
    finally:
        with _lock:
            _running -= 1
            _done += 1


async def run(fn: Callable[[*Ts], T], *args: *Ts) -> T:
    """Run ``fn(*args)`` on the pool and await its result (exceptions propagate).

    Cancelling the awaiting task drops a job that has not started yet; one that
    already started runs to completion (engine calls cannot be interrupted).
    """
    global _queued
    pool = executor()
    with _lock:
        _queued += 1

    call = _timed(fn, *args)
    try:
        job = pool.submit(_counted, call)
    except BaseException:
        _forget_queued()
        raise
    job.add_done_callback(_on_done)
    return await asyncio.wrap_future(job)


_fast_lane: ThreadPoolExecutor | None = None


async def run_fast(fn: Callable[[*Ts], T], *args: *Ts) -> T:
    """Run a short real-time job (resampling and voice activity of one call's audio) on
    its own lane, so it never waits behind a speech recogniser's second-long decode.

    One thread: these jobs are a fraction of a millisecond each, and a call's jobs must
    stay in order anyway (its listener awaits each before the next)."""
    global _fast_lane
    with _lock:
        if _fast_lane is None:
            _fast_lane = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loket-listen")
        lane = _fast_lane
    return await asyncio.wrap_future(lane.submit(_timed(fn, *args)))


def _timed(fn: Callable[[*Ts], T], *args: *Ts) -> Callable[[], T]:
    """``fn(*args)`` as a job whose waiting and running time go to :func:`job_times`."""
    name = getattr(fn, "__qualname__", type(fn).__name__)
    submitted = time.perf_counter()

    def call() -> T:
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            _account(name, started - submitted, time.perf_counter() - started)

    return call


def _on_done(job: Future[Any]) -> None:
    if job.cancelled():  # never started, so _counted did not count it
        _forget_queued()


def _forget_queued() -> None:
    global _queued
    with _lock:
        _queued -= 1


_jobs: dict[str, list[float]] = {}  # name → [count, waited seconds, run seconds]


def _account(name: str, waited: float, ran: float) -> None:
    with _lock:
        entry = _jobs.setdefault(name, [0.0, 0.0, 0.0])
        entry[0] += 1
        entry[1] += waited
        entry[2] += ran


def job_times() -> dict[str, dict[str, float]]:
    """Per job kind: how many, seconds spent waiting for a thread, seconds running
    (where the voice pool's time goes; read by /healthz and the load benchmark)."""
    with _lock:
        return {
            name: {"jobs": int(n), "wait_s": round(w, 3), "run_s": round(r, 3)}
            for name, (n, w, r) in _jobs.items()
        }


def stats() -> PoolStats:
    with _lock:
        return PoolStats(_threads, _queued, _running, _done)


def shutdown(wait: bool = True) -> None:
    """Stop the pool and the real-time lane (at process exit); a later :func:`run` or
    :func:`run_fast` starts a new one."""
    global _executor, _fast_lane
    with _lock:
        old, _executor = _executor, None
        lane, _fast_lane = _fast_lane, None
    for pool in (old, lane):
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)
