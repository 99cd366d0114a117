"""The one bounded thread pool for CPU-heavy engine work (STT, TTS, VAD).

Engine calls never run on the event loop: ``await run(fn, *args)``. The pool
is per process and small on purpose — its size (``voice.threads``, default 2)
should match the cores given to speech, and each engine is configured to use
one thread per call, so N pool threads never oversubscribe N cores however
many calls are active. Work beyond that queues here, in FIFO order.

Call :func:`configure` once at start-up (before the first :func:`run`) to
apply ``settings.voice.threads``; without it the pool has 2 threads.

Budgets. A job run under :func:`budget` that has not finished in time raises
:class:`JobTimeout` to its caller. A Python thread cannot be stopped, so a job that
was already running then keeps its thread ("hung"): with two threads, two hung
jobs would leave every call in silence, and every job queued behind them. So the
pool makes room: a new thread takes the hung one's place on the same queue at once,
and the hung one ends when its job does (:mod:`voice.thread_pool`). At most
``threads`` hung jobs are given room this way (the threads alive stay within twice
the pool's size); past that the pool shrinks, the pool probe
(:mod:`voice.pool_probe`) reports it, and ``stats().hung`` says how many jobs hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar, TypeVarTuple

from voice.thread_pool import ThreadPool

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

log = logging.getLogger(__name__)

DEFAULT_THREADS = 2

_lock = threading.Lock()
_threads = DEFAULT_THREADS
_executor: ThreadPool | None = None
_queued = 0
_running = 0
_done = 0
_hung = 0
_deadline: ContextVar[float | None] = ContextVar("loket_voice_deadline", default=None)


class JobTimeout(TimeoutError):
    """A job did not finish within its caller's :func:`budget`."""


@dataclass(frozen=True, slots=True)
class PoolStats:
    threads: int
    queued: int
    """Submitted jobs not yet started (the backlog every new job waits behind)."""
    running: int
    done: int
    hung: int = 0
    """Jobs still running after their caller gave up on them (past their budget)."""


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


@contextlib.contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Jobs run from this context (this task and the coroutines it awaits) must finish
    within *seconds* from now, else :func:`run` raises :class:`JobTimeout`. Nested
    budgets keep the earlier deadline."""
    deadline = time.monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(deadline if outer is None else min(outer, deadline))
    try:
        yield
    finally:
        _deadline.reset(token)


def executor() -> ThreadPool:
    """The process's pool, created on first use."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPool(_threads, "loket-voice")
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
    already started runs to completion (engine calls cannot be interrupted). Under a
    :func:`budget`, raises :class:`JobTimeout` when the deadline passes.
    """
    global _queued
    pool = executor()
    with _lock:
        _queued += 1

    call = _timed(fn, *args)
    try:
        job = pool.submit(lambda: _counted(call))
    except BaseException:
        _forget_queued()
        raise
    job.add_done_callback(_on_done)
    deadline = _deadline.get()
    if deadline is None:
        return await asyncio.wrap_future(job)
    try:
        return await asyncio.wait_for(
            asyncio.wrap_future(job), max(0.0, deadline - time.monotonic())
        )
    except TimeoutError:
        if job.cancel():  # still queued: dropped, no thread lost
            raise JobTimeout("voice job still queued past its budget") from None
        if job.done():  # finished as the budget ran out
            return job.result()
        _hung_job(pool, job, getattr(fn, "__qualname__", type(fn).__name__))
        raise JobTimeout("voice job still running past its budget") from None


def _hung_job(pool: ThreadPool, job: Future[Any], name: str) -> None:
    """A running job past its budget: count it, and give the pool a thread in its place."""
    global _hung
    with _lock:
        _hung += 1
        hung = _hung
    replaced = hung <= _threads and pool.replace(job)
    log.error("voice.job_hung", extra={"job": name, "hung": hung, "room_made": replaced})
    job.add_done_callback(_hung_done)


def _hung_done(_job: Future[Any]) -> None:
    global _hung
    with _lock:
        _hung -= 1
    log.warning("voice.hung_job_ended")


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
        return PoolStats(_threads, _queued, _running, _done, _hung)


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
