"""The voice pool's readiness, proven: a no-op job on each lane must start within a budget.

A pool whose threads are all stuck (an engine call that never returns) leaves every
caller in silence while the process looks alive. Every ``interval_s`` a trivial job
goes to the shared pool and to the real-time lane; the time until it ran is what a
caller's next job would wait. Longer than ``budget_s`` is a failure; failing for
``stuck_s`` makes the gateway not ready (``/healthz`` 503), so the supervisor restarts it.

Jobs that hang past their caller's budget are reported as ``hung``: the pool gives each
of them room (a fresh thread) up to its own size, so a few hung jobs slow nobody; past
that it shrinks, and once no thread is left the no-op check above fails.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from voice import workers

log = logging.getLogger(__name__)


def _noop() -> None:
    return None


@dataclass
class LaneState:
    ok: bool = True
    wait_ms: float | None = None
    failing_since: float | None = None
    """Monotonic time of the first failure in the current run of failures."""


class PoolProbe:
    def __init__(
        self, *, interval_s: float = 5.0, budget_s: float = 5.0, stuck_s: float = 30.0
    ) -> None:
        self.interval_s = interval_s
        self.budget_s = budget_s
        self.stuck_s = stuck_s
        self.lanes = {"pool": LaneState(), "realtime": LaneState()}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    @property
    def stuck(self) -> bool:
        """A lane has not run a no-op for ``stuck_s``: callers are in silence."""
        now = time.monotonic()
        return any(
            s.failing_since is not None and now - s.failing_since >= self.stuck_s
            for s in self.lanes.values()
        )

    async def check_once(self) -> None:
        for name, submit in (("pool", workers.run), ("realtime", workers.run_fast)):
            state = self.lanes[name]
            started = time.perf_counter()
            try:
                await asyncio.wait_for(submit(_noop), self.budget_s)
            except TimeoutError:
                state.ok = False
                state.wait_ms = None
                if state.failing_since is None:
                    state.failing_since = time.monotonic()
                    log.error("voice.pool_slow", extra={"lane": name, "budget_s": self.budget_s})
                continue
            state.ok = True
            state.failing_since = None
            state.wait_ms = round((time.perf_counter() - started) * 1000, 2)

    async def _run(self) -> None:
        while True:
            try:
                await self.check_once()
            except Exception:  # the probe itself must not die silently
                log.exception("voice.pool_probe_error")
            await asyncio.sleep(self.interval_s)

    def as_dict(self) -> dict[str, object]:
        pool = workers.stats()
        return {name: {"ok": s.ok, "wait_ms": s.wait_ms} for name, s in self.lanes.items()} | {
            "stuck": self.stuck,
            "hung": pool.hung,
            "hung_room": max(0, pool.threads - pool.hung),
        }
