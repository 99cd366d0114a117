"""``make run``'s supervisor heals faults in the real processes: a gateway killed with
``kill -9``, a Rasa server that hangs (SIGSTOP), an action server that dies.

One supervisor (``python -m loket.supervisor``, as ``make run`` starts it) runs for the
module on free loopback ports with its own var directory; the test kills or stops its
children and watches them come back.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from telephony.sip.selfcheck import probe_udp
from tests.stack import rasa_model
from tests.tools.peers import SIPP, pids_of, sipp_uac_call
from tests.tools.sip_caller import dial
from tests.tools.supervised import Supervised, get_json, supervisor

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SIPP is None, reason="sipp not installed"),
    pytest.mark.skipif(rasa_model() is None, reason="no trained Rasa model: make train"),
]


@pytest.fixture(scope="module")
def supervised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Supervised]:
    with supervisor(tmp_path_factory.mktemp("supervised")) as running:
        yield running


async def test_a_call_up_when_the_gateway_is_killed_gets_a_bye_from_the_new_one(
    supervised: Supervised,
) -> None:
    """The caller's phone is not left in a silent call: the restarted gateway ends it."""
    call = await dial(f"sip:helpline@127.0.0.1:{supervised.sip_port}", codecs=["PCMU"])
    try:
        await call.wait_answered()
        await call.wait_for_audio(timeout=20)  # the greeting: the call is up
        before = supervised.health()
        assert before is not None
        os.kill(int(before["pid"]), signal.SIGKILL)
        killed = time.monotonic()
        ended_by = await call.wait_ended(timeout=60)
        bye_after = time.monotonic() - killed
    finally:
        await call.close()
    assert ended_by == "remote", ended_by

    def restarted() -> dict[str, Any] | None:
        health = supervised.health()
        return health if health and health["pid"] != before["pid"] else None

    supervised.wait("the new gateway's /healthz", restarted, 60)
    after = restarted()
    assert after is not None and after["components"]["sip"]["ended_after_restart"] == 1
    print(f"gateway kill -9 mid-call → the caller got a BYE after {bye_after:.1f} s")


async def test_gateway_killed_with_sigkill_answers_again(
    supervised: Supervised, tmp_path: Path
) -> None:
    before = supervised.health()
    assert before is not None and before["components"]["sip"]["ready"]
    os.kill(int(before["pid"]), signal.SIGKILL)
    killed = time.monotonic()

    def answering() -> bool:
        health = supervised.health()
        return bool(
            health and health["pid"] != before["pid"] and health["components"]["sip"]["ready"]
        )

    supervised.wait("a new gateway", answering, 60)
    assert await probe_udp("127.0.0.1", supervised.sip_port, 3.0) == 200
    problem = await sipp_uac_call(supervised.sip_port, tmp_path / "call")
    back_after = time.monotonic() - killed
    assert problem is None, problem
    assert "gateway exited with -9; restarting" in supervised.output()
    print(f"gateway kill -9 → next call answered after {back_after:.1f} s")


def test_hung_rasa_is_killed_and_restarted(supervised: Supervised) -> None:
    rasa = pids_of("run", "--enable-api", "-p", supervised.rasa_port)
    assert len(rasa) == 1, rasa
    status_url = f"http://127.0.0.1:{supervised.rasa_port}/status"
    assert get_json(status_url).get("model_file")
    os.kill(rasa[0], signal.SIGSTOP)
    try:
        # the gateway sees it at once: Rasa is not ready, callers go to an agent meanwhile
        supervised.wait(
            "healthz: rasa not ready",
            lambda: not supervised.component("rasa")["ready"],
            30,
        )
        took = supervised.wait(
            "the supervisor's restart of the hung Rasa",
            lambda: "rasa failed 3 health checks in a row" in supervised.output(),
            60,
        )
    finally:
        if rasa[0] in pids_of("run", "--enable-api", "-p", supervised.rasa_port):
            os.kill(rasa[0], signal.SIGCONT)
    supervised.wait("Rasa back", lambda: bool(get_json(status_url).get("model_file")), 240)
    assert pids_of("run", "--enable-api", "-p", supervised.rasa_port) != rasa
    supervised.wait(
        "healthz: rasa ready",
        lambda: (supervised.health() or {})["components"]["rasa"]["ready"],
        30,
    )
    print(f"hung Rasa detected and killed after {took:.1f} s")


def test_action_server_killed_is_restarted(supervised: Supervised) -> None:
    port = supervised.env["LOKET_RASA__ACTIONS_PORT"]
    actions = pids_of("run", "actions", "-p", port)
    assert len(actions) == 1, actions
    os.kill(actions[0], signal.SIGKILL)
    supervised.wait(
        "a new action server",
        lambda: (
            get_json(f"http://127.0.0.1:{port}/health") is not None
            and pids_of("run", "actions", "-p", port) not in ([], actions)
        ),
        120,
    )
    supervised.wait(
        "healthz: actions ready",
        lambda: supervised.component("actions")["ready"],
        30,
    )
