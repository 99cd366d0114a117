"""Fuzz the sans-IO SIP core in memory: mutated messages in, every output checked.

The application side answers as the gateway does (ring and accept calls, answer
re-INVITEs, forget ended dialogs), so mutated messages meet real dialogs and
transactions, and a fake clock drives every timer.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from aiosipua import SipMessage, SipResponse

from telephony.sip import events as ev
from telephony.sip.core import CoreConfig, SipCore
from telephony.sip.transaction import Peer
from tests.tools.sip_fuzz import GW_TAG, SDP, Addr, campaign

LOCAL = ("127.0.0.1", 5060)
HANG_S = 0.5
"""One message taking longer than this to handle counts as a hang."""


@dataclass
class Crash:
    seed: int
    index: int
    kind: str
    error: str
    message: bytes


@dataclass
class CoreFuzzResult:
    messages: int = 0
    crashes: list[Crash] = field(default_factory=list)
    hangs: int = 0
    slowest_ms: float = 0.0
    answers: Counter[str] = field(default_factory=Counter)
    """Responses the core sent, by status code ('unparseable' if one did not parse)."""
    unparseable: list[Crash] = field(default_factory=list)
    """What the core sent that did not parse, with the message that caused it (first 5)."""
    requests_sent: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    left_dialogs: int = 0
    left_transactions: int = 0
    left_timer_entries: int = 0
    """Entries in the core's timer heaps once every timer has run out (must be 0)."""
    seconds: float = 0.0


def _react(core: SipCore, now: float, result: CoreFuzzResult) -> None:
    for event in core.events():
        result.events[type(event).__name__] += 1
        if isinstance(event, ev.IncomingCall):
            core.ring(event.call_id, now)
            core.accept(event.call_id, SDP.encode(), now)
        elif isinstance(event, ev.SessionOffer):
            core.answer_session(event, 200, SDP.encode(), now)
        elif isinstance(event, ev.CallEnded):
            core.forget(event.call_id)


def _collect(core: SipCore, result: CoreFuzzResult, cause: Crash | None = None) -> None:
    for data, _peer in core.datagrams():
        try:
            msg = SipMessage.parse(data)
        except Exception as exc:
            result.answers["unparseable"] += 1
            if cause is not None and len(result.unparseable) < 5:
                sent = f"{type(exc).__name__}: {exc}; sent: {data[:2000]!r}"
                result.unparseable.append(
                    Crash(cause.seed, cause.index, cause.kind, sent, cause.message)
                )
            continue
        if isinstance(msg, SipResponse):
            result.answers[str(msg.status_code)] += 1
        else:
            result.requests_sent[msg.method] += 1


def scanned_next_timer(core: SipCore) -> float | None:
    """The earliest deadline found the slow way, by asking every transaction: what the
    core's timer heap must agree with."""
    times = [t for tx in core._server_tx.values() if (t := tx.next_deadline()) is not None]
    times += [t for tx in core._client_tx.values() if (t := tx.next_deadline()) is not None]
    uac = core.uac.next_timer()
    if uac is not None:
        times.append(uac)
    return min(times) if times else None


def fuzz_core(seed: int, count: int, *, max_calls: int = 40) -> CoreFuzzResult:
    """Feed *count* mutated messages to one core; crashes are recorded, not raised."""
    core = SipCore(CoreConfig(max_calls=max_calls))
    result = CoreFuzzResult()
    udp, tcp = Peer("udp", "127.0.0.1", 5061), Peer("tcp", "127.0.0.1", 40000, conn=1)
    now = 1000.0
    started = time.perf_counter()
    for index, (kind, call_id, data) in enumerate(campaign(seed, count, Addr())):
        peer = tcp if index % 5 == 0 else udp
        dialog = core.dialogs.get(call_id)
        if dialog is not None:
            data = data.replace(GW_TAG.encode(), dialog.local_tag.encode())
        t0 = time.perf_counter()
        try:
            core.receive(data, peer, now, LOCAL)
            _react(core, now, result)
            if index % 32 == 0:
                now += 0.6
                core.handle_timers(now)
                _react(core, now, result)
        except Exception as exc:
            result.crashes.append(Crash(seed, index, kind, f"{type(exc).__name__}: {exc}", data))
        _collect(core, result, Crash(seed, index, kind, "", data))
        took = time.perf_counter() - t0
        if core.next_timer() != scanned_next_timer(core):
            result.crashes.append(
                Crash(seed, index, kind, f"next_timer {core.next_timer()} != scanned "
                      f"{scanned_next_timer(core)}", data)
            )  # fmt: skip
        result.slowest_ms = max(result.slowest_ms, took * 1000)
        if took > HANG_S:
            result.hangs += 1
        now += 0.005
        result.messages += 1
    # let every timer run out: nothing may be left behind for ever
    for _ in range(200):
        now += 1.0
        try:
            core.handle_timers(now)
            _react(core, now, result)
        except Exception as exc:
            result.crashes.append(Crash(seed, -1, "timers", f"{type(exc).__name__}: {exc}", b""))
        _collect(core, result)
    for call_id in list(core.dialogs):
        core.hangup(call_id, now)
    _react(core, now, result)
    for _ in range(100):
        now += 1.0
        core.handle_timers(now)
        _react(core, now, result)
    _collect(core, result)
    result.left_dialogs = sum(1 for d in core.dialogs.values() if d.state.name != "TERMINATED")
    result.left_transactions = len(core._server_tx) + len(core._client_tx)
    result.left_timer_entries = len(core._server_timers) + len(core._client_timers)
    result.seconds = time.perf_counter() - started
    return result
