"""Capacity on paper: agents, bot ports, gateways and Rasa replicas for the national line.

Erlang C for agents (callers wait in the queue), Erlang B for gateway ports (a caller who
finds every port busy is refused, 503, not queued). Every input is either measured here
(named with its benchmark file) or an assumption (named ``ASSUMED``); the output is
``bench/results/capacity.json``, quoted by ``docs/capacity.md``.

    .venv/bin/python -m bench.capacity
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Assumptions:
    questions_per_year: int = 322_000  # Informatie Rijksoverheid 2017 (issue 12's figure)
    service_days: int = 250  # ASSUMED: working days a year
    busy_day_factor: float = 1.5  # ASSUMED: a Monday over the average day
    busy_hour_share: float = 0.13  # ASSUMED: share of a day's calls in its busiest hour
    bot_seconds: float = 75.0  # ASSUMED: greeting, disclosure and 2-3 turns
    contained_share: float = 0.35  # ASSUMED: calls the assistant ends (dashboard will measure)
    agent_handle_seconds: float = 300.0  # ASSUMED: talk + wrap-up
    service_level_target: float = 0.80  # ASSUMED share; 40 s is the line's own promise
    answer_within_seconds: float = 40.0
    port_blocking: float = 0.001  # ASSUMED: 1 caller in 1,000 refused at the busy hour
    turn_every_seconds: float = 12.0  # ASSUMED: a caller turn this often during the bot part


@dataclass(frozen=True)
class Measured:
    """On this machine (2 cores, no GPU); see the files named."""

    calls_per_gateway: int = 30  # turn_latency_nl-n30.json: p95 643 ms ≤ 800 ms; n40: 1,088 ms
    rasa_requests_per_s: float = 17.7  # rasa.json: one Rasa process, 8 clients in parallel
    setups_per_s: float = 163.4  # sip_load.json: set-ups/s with RTP both ways, 100 concurrent


def erlang_b(traffic: float, servers: int) -> float:
    b = 1.0
    for n in range(1, servers + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(traffic: float, servers: int) -> float:
    """Probability that a caller waits (servers > traffic)."""
    if servers <= traffic:
        return 1.0
    b = erlang_b(traffic, servers)
    return servers * b / (servers - traffic * (1 - b))


def service_level(traffic: float, agents: int, handle_s: float, within_s: float) -> float:
    if agents <= traffic:
        return 0.0
    return 1 - erlang_c(traffic, agents) * math.exp(-(agents - traffic) * within_s / handle_s)


def agents_needed(traffic: float, handle_s: float, within_s: float, target: float) -> int:
    n = max(1, math.ceil(traffic))
    while service_level(traffic, n, handle_s, within_s) < target:
        n += 1
    return n


def ports_needed(traffic: float, blocking: float) -> int:
    n = max(1, math.ceil(traffic))
    while erlang_b(traffic, n) > blocking:
        n += 1
    return n


def plan(a: Assumptions, m: Measured, peak_factor: float) -> dict[str, object]:
    per_hour = (
        a.questions_per_year / a.service_days * a.busy_day_factor * a.busy_hour_share * peak_factor
    )
    per_s = per_hour / 3600
    handed = per_s * (1 - a.contained_share)
    agent_traffic = handed * a.agent_handle_seconds
    agents = agents_needed(
        agent_traffic, a.agent_handle_seconds, a.answer_within_seconds, a.service_level_target
    )
    wait_prob = erlang_c(agent_traffic, agents)
    mean_wait_s = wait_prob * a.agent_handle_seconds / (agents - agent_traffic)
    # a gateway carries the whole call: bot part, the wait (hold audio) and the agent's leg
    port_traffic = per_s * a.bot_seconds + handed * (mean_wait_s + a.agent_handle_seconds)
    ports = ports_needed(port_traffic, a.port_blocking)
    gateways = math.ceil(ports / m.calls_per_gateway) + 1  # +1: one may die (N+1)
    rasa_rate = per_s * a.bot_seconds / a.turn_every_seconds
    rasa = max(2, math.ceil(rasa_rate / (m.rasa_requests_per_s * 0.5)) + 1)  # half load, N+1
    return {
        "peak_factor": peak_factor,
        "calls_per_hour": round(per_hour),
        "agent_erlangs": round(agent_traffic, 1),
        "agents": agents,
        "service_level": round(
            service_level(agent_traffic, agents, a.agent_handle_seconds, a.answer_within_seconds),
            3,
        ),
        "mean_wait_s": round(mean_wait_s, 1),
        "port_erlangs": round(port_traffic, 1),
        "ports": ports,
        "gateways_n_plus_1": gateways,
        "rasa_requests_per_s": round(rasa_rate, 2),
        "rasa_replicas": rasa,
        "setups_per_s_needed": round(per_s, 3),
        "setup_headroom_one_gateway": round(m.setups_per_s / per_s),
    }


def main() -> None:
    a, m = Assumptions(), Measured()
    out = {
        "benchmark": "capacity",
        "what": "Erlang C agents, Erlang B ports; inputs measured or ASSUMED (bench/capacity.py)",
        "assumptions": asdict(a),
        "measured": asdict(m),
        "plans": [plan(a, m, f) for f in (1.0, 5.0, 10.0)],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "capacity.json").write_text(json.dumps(out, indent=2) + "\n")
    for p in out["plans"]:  # type: ignore[attr-defined]
        print(p)


if __name__ == "__main__":
    main()
