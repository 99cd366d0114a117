"""The bounded worker pool."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from voice import workers


@pytest.fixture(autouse=True)
def fresh_pool() -> Iterator[None]:
    workers.shutdown()
    yield
    workers.configure(workers.DEFAULT_THREADS)


async def test_runs_off_the_event_loop_thread() -> None:
    def where(x: int) -> tuple[int, str]:
        return x * 2, threading.current_thread().name

    value, name = await workers.run(where, 21)
    assert value == 42
    assert name.startswith("loket-voice") and threading.current_thread().name != name


async def test_pool_is_bounded_and_the_loop_stays_responsive() -> None:
    workers.configure(2)
    active = 0
    peak = 0
    lock = threading.Lock()

    def busy() -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1

    done_before = workers.stats().done
    jobs = asyncio.gather(*(workers.run(busy) for _ in range(6)))
    await asyncio.sleep(0.01)
    # the loop got control back while all 6 jobs are queued or running on 2 threads
    stats = workers.stats()
    assert stats.queued + stats.running == 6 and stats.running <= 2
    await jobs
    assert peak == 2
    stats = workers.stats()
    assert (stats.threads, stats.queued, stats.running) == (2, 0, 0)
    assert stats.done - done_before == 6


async def test_exceptions_propagate() -> None:
    def fail() -> None:
        raise KeyError("nope")

    with pytest.raises(KeyError, match="nope"):
        await workers.run(fail)
    assert workers.stats().running == 0


async def test_cancelled_queued_job_never_runs_and_is_not_counted() -> None:
    workers.configure(1)
    release = threading.Event()
    ran: list[str] = []

    def block() -> None:
        release.wait(2)

    def record() -> None:
        ran.append("ran")

    first = asyncio.ensure_future(workers.run(block))
    await asyncio.sleep(0.02)
    second = asyncio.ensure_future(workers.run(record))
    await asyncio.sleep(0.01)
    second.cancel()
    await asyncio.sleep(0.01)  # the cancellation reaches the pool's queue
    release.set()
    await first
    with pytest.raises(asyncio.CancelledError):
        await second
    await asyncio.sleep(0.01)
    assert ran == []
    assert workers.stats().queued == 0


def test_configure_rejects_zero() -> None:
    with pytest.raises(ValueError):
        workers.configure(0)


async def test_the_real_time_lane_never_waits_behind_the_pool_and_is_accounted() -> None:
    workers.configure(1)
    release = threading.Event()
    busy = asyncio.ensure_future(workers.run(release.wait, 5.0))  # the one pool thread
    await asyncio.sleep(0.05)

    def window() -> str:
        return threading.current_thread().name

    thread = await asyncio.wait_for(workers.run_fast(window), 1.0)
    assert thread.startswith("loket-listen")
    release.set()
    await busy
    times = workers.job_times()
    assert (
        times[
            "test_the_real_time_lane_never_waits_behind_the_pool_and_is_accounted.<locals>.window"
        ]["jobs"]
        >= 1
    )
    assert times["Event.wait"]["run_s"] >= 0.04


async def test_shutdown_stops_the_real_time_lane_too() -> None:
    await workers.run_fast(time.monotonic)
    workers.shutdown()
    lane_threads = [t for t in threading.enumerate() if t.name.startswith("loket-listen")]
    assert not lane_threads
    assert await workers.run_fast(time.monotonic) > 0  # a new lane on next use


# --- budgets and hung jobs --------------------------------------------------------------


async def test_a_job_past_its_budget_hangs_aside_and_the_pool_makes_room() -> None:
    workers.configure(2)
    release = threading.Event()
    try:
        for hung in (1, 2):  # as many hung jobs as threads: each gets a fresh pool
            with workers.budget(0.2), pytest.raises(workers.JobTimeout, match="running"):
                await workers.run(release.wait, 30.0)
            assert workers.stats().hung == hung
            # the pool still runs two jobs side by side, at once
            started = time.monotonic()
            await asyncio.gather(workers.run(time.sleep, 0.2), workers.run(time.sleep, 0.2))
            assert time.monotonic() - started < 0.35
        # past the room the pool makes, it shrinks: one thread left of two
        with workers.budget(0.2), pytest.raises(workers.JobTimeout):
            await workers.run(release.wait, 30.0)
        assert workers.stats().hung == 3
        started = time.monotonic()
        await asyncio.gather(workers.run(time.sleep, 0.2), workers.run(time.sleep, 0.2))
        assert time.monotonic() - started >= 0.4
    finally:
        release.set()
    async with asyncio.timeout(5):
        while workers.stats().hung:
            await asyncio.sleep(0.01)


async def test_a_queued_job_past_its_budget_is_dropped_not_hung() -> None:
    workers.configure(1)
    ran: list[int] = []
    blocker = asyncio.ensure_future(workers.run(time.sleep, 0.3))
    await asyncio.sleep(0.05)
    with workers.budget(0.1), pytest.raises(workers.JobTimeout, match="queued"):
        await workers.run(ran.append, 1)
    await blocker
    await workers.run(ran.append, 2)
    assert ran == [2] and workers.stats().hung == 0 and workers.stats().queued == 0


async def test_a_job_within_its_budget_returns_and_budgets_nest() -> None:
    with workers.budget(5):
        assert await workers.run(pow, 2, 10) == 1024
    with workers.budget(0.1), workers.budget(60), pytest.raises(workers.JobTimeout):
        await workers.run(time.sleep, 0.4)  # the earlier deadline holds
    async with asyncio.timeout(5):
        while workers.stats().hung:
            await asyncio.sleep(0.01)


async def test_jobs_queued_behind_a_hung_job_run_once_it_is_given_up() -> None:
    workers.configure(1)
    release = threading.Event()
    try:
        hung = asyncio.ensure_future(_hang_within(0.3, release))
        await asyncio.sleep(0.05)
        behind = asyncio.ensure_future(workers.run(pow, 3, 3))  # queued behind it
        with pytest.raises(workers.JobTimeout):
            await hung
        async with asyncio.timeout(1):
            assert await behind == 27
    finally:
        release.set()
    async with asyncio.timeout(5):
        while workers.stats().hung:
            await asyncio.sleep(0.01)


async def _hang_within(budget_s: float, release: threading.Event) -> None:
    with workers.budget(budget_s):
        await workers.run(release.wait, 30.0)
