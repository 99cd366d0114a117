"""The voice pool probe: a pool whose threads are all stuck is found out."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from voice import workers
from voice.pool_probe import PoolProbe


@pytest.fixture(autouse=True)
def fresh_pool() -> Iterator[None]:
    workers.shutdown()
    yield
    workers.shutdown()
    workers.configure(workers.DEFAULT_THREADS)


async def test_a_free_pool_is_ready() -> None:
    probe = PoolProbe(budget_s=1.0)
    await probe.check_once()
    assert not probe.stuck
    state = probe.as_dict()
    assert state["pool"] == {"ok": True, "wait_ms": state["pool"]["wait_ms"]}  # type: ignore[index]
    assert probe.lanes["pool"].wait_ms is not None and probe.lanes["pool"].wait_ms < 1000


async def test_a_pool_stuck_in_an_engine_call_is_found_and_recovers() -> None:
    workers.configure(1)
    release = threading.Event()
    blocker = asyncio.ensure_future(workers.run(release.wait, 30.0))  # an engine that hangs
    await asyncio.sleep(0.05)
    probe = PoolProbe(budget_s=0.1, stuck_s=0.25)
    await probe.check_once()
    assert probe.lanes["pool"].ok is False and probe.lanes["realtime"].ok is True
    assert not probe.stuck  # one slow check is not yet stuck
    await asyncio.sleep(0.3)
    await probe.check_once()
    assert probe.stuck
    release.set()
    await blocker
    await probe.check_once()
    assert not probe.stuck and probe.lanes["pool"].ok
