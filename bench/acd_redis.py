"""What the shared queue costs: one transition and one read, in memory and in Redis.

Run: ``.venv/bin/python -m bench.acd_redis`` (about half a minute; starts its own
redis-server on 127.0.0.1 in a temp dir and stops it). Per backlog (calls waiting, 50
agents on break so nothing is offered): a caller joining and leaving (two
transitions, each scanning the backlog for an agent), the position/expected-wait read a
hold announcement makes, and the snapshot a desk reads on every change. Then two gateways racing
(two threads, own clients): transitions per second and how many were re-run (WATCH
conflicts). Redis with ``appendfsync always`` (every commit on disk) and without
persistence. Writes ``bench/results/acd_redis.json``.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import percentile, write_result
from telephony.acd import Acd
from telephony.acd_model import AcdConfig
from telephony.acd_redis import RedisQueueState, connect
from tests.redis_server import RedisServer

CONFIG = AcdConfig(queues=("toeslagen", "belastingen"), offer_timeout_s=20)
BACKLOGS = (0, 50, 200, 1000)
AGENTS = 50
REPEAT = 200
T0 = 1_700_000_000.0


def timed(fn: Callable[[], object], repeat: int = REPEAT) -> dict[str, float | None]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(statistics.median(times), 3),
        "p95_ms": round(percentile(times, 95) or 0.0, 3),
    }


def fill(state: Any, backlog: int) -> None:
    for i in range(AGENTS):
        state.login(T0, f"agent{i}", ["toeslagen", "belastingen"], ready=False)
    for i in range(backlog):
        state.enqueue(
            T0 + i,
            f"w{i}",
            queue="toeslagen" if i % 2 else "belastingen",
            priority="urgent" if i % 10 == 0 else "normal",
            reason="asked for agent",
            language="nl",
            summary={"spoken": "Beller wil een medewerker spreken over de huurtoeslag."},
        )


def costs(state: Any, backlog: int) -> dict[str, Any]:
    fill(state, backlog)
    n = iter(range(10**9))

    def join_and_leave() -> None:
        call_id = f"x{next(n)}"
        state.enqueue(
            T0, call_id, queue="toeslagen", priority="normal", reason="", language="", summary={}
        )
        state.leave(T0, call_id)

    state.enqueue(
        T0, "probe", queue="toeslagen", priority="normal", reason="", language="", summary={}
    )

    out = {
        "backlog": backlog,
        "join_and_leave": timed(join_and_leave),
        "estimate": timed(lambda: state.estimate(T0, "probe")),
        "snapshot": timed(lambda: state.snapshot(T0), repeat=50),
    }
    return out


def race(url: str, namespace: str, seconds: float = 3.0) -> dict[str, Any]:
    done = [0, 0]
    conflicts = [0, 0]
    stop = time.monotonic() + seconds

    def work(i: int) -> None:
        client = connect(url)
        state = RedisQueueState(CONFIG, client, gateway_id=f"gw-{i}", namespace=namespace)
        k = 0
        while time.monotonic() < stop:
            call_id = f"g{i}-{k}"
            state.enqueue(
                T0,
                call_id,
                queue="toeslagen",
                priority="normal",
                reason="",
                language="",
                summary={},
            )
            state.leave(T0, call_id)
            k += 1
            done[i] += 2
        conflicts[i] = state.conflicts
        client.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "gateways": 2,
        "backlog": 50,
        "seconds": seconds,
        "transitions_per_s": round(sum(done) / seconds),
        "rerun_share": round(sum(conflicts) / max(1, sum(done)), 4),
    }


def main() -> None:
    result: dict[str, Any] = {"agents": AGENTS, "repeat": REPEAT, "memory": [], "redis": {}}
    for backlog in BACKLOGS:
        result["memory"].append(costs(Acd(CONFIG), backlog))
    with tempfile.TemporaryDirectory() as tmp:
        for aof in (True, False):
            label = "aof_always" if aof else "no_persistence"
            server = RedisServer(Path(tmp) / label, aof=aof)
            server.workdir.mkdir()
            server.start()
            try:
                client = connect(server.url)
                rows = []
                for backlog in BACKLOGS:
                    client.flushdb()
                    rows.append(costs(RedisQueueState(CONFIG, client, gateway_id="gw"), backlog))
                client.flushdb()
                fill(RedisQueueState(CONFIG, client, gateway_id="gw", namespace="race"), 50)
                result["redis"][label] = {"costs": rows, "race": race(server.url, "race")}
                client.close()
            finally:
                server.stop()
    path = write_result("acd_redis", result)
    print(path)
    for label, data in [("memory", {"costs": result["memory"]}), *result["redis"].items()]:
        for row in data["costs"]:
            print(
                f"{label:15} backlog {row['backlog']:5}: join+leave p50 "
                f"{row['join_and_leave']['p50_ms']} ms, estimate p50 {row['estimate']['p50_ms']} ms"
            )
        if "race" in data:
            print(f"{label:15} two gateways racing: {data['race']}")


if __name__ == "__main__":
    main()
