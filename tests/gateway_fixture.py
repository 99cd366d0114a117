"""A real gateway in the test's event loop, on free loopback ports, stopped by the test."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from config.settings import Settings, load_settings
from loket.app import Gateway
from loket.http import HttpServer, start_http
from records.store import Records
from tests.tools.peers import free_port


@dataclass
class RunningGateway:
    gateway: Gateway
    settings: Settings
    http: HttpServer

    @property
    def sip_port(self) -> int:
        return self.settings.sip.port

    @property
    def uri(self) -> str:
        return f"sip:helpline@127.0.0.1:{self.sip_port}"

    @property
    def records(self) -> Records:
        return self.gateway.records

    def calls(self) -> list[dict[str, object]]:
        return self.records.recent_calls(100)

    def kinds(self, call_id: str) -> list[str]:
        return [e["kind"] for e in self.records.events(call_id)]


def gateway_env(tmp: Path, **overrides: str) -> dict[str, str]:
    rtp = free_port("udp", even=True)
    env = {
        "LOKET_SIP__HOST": "127.0.0.1",
        "LOKET_SIP__PORT": str(free_port()),
        "LOKET_SIP__RING_MS": "50",
        "LOKET_SIP__SHUTDOWN_GRACE_S": "0",
        "LOKET_RTP__HOST": "127.0.0.1",
        "LOKET_RTP__PORT_MIN": str(rtp),
        "LOKET_RTP__PORT_MAX": str(rtp + 200),  # 100 calls: the load benchmark goes past 20
        "LOKET_HTTP__PORT": str(free_port("tcp")),
        # a port nothing listens on: Rasa is "down" unless a test starts one
        "LOKET_RASA__URL": f"http://127.0.0.1:{free_port('tcp')}",
        "LOKET_RASA__TIMEOUT_S": "2",
        "LOKET_RECORDS__PATH": str(tmp / "records.sqlite"),
        "LOKET_RECORDS__CALLER_HASH_SALT": "test-salt",
        "LOKET_DESK__STORE_PATH": str(tmp / "desk.sqlite"),
        # start-up synthesis of every fixed text would compete with the test for the CPU
        "LOKET_VOICE__WARM_PROMPTS": "false",
    }
    env.update({f"LOKET_{k.upper()}": v for k, v in overrides.items()})
    return env


@contextlib.asynccontextmanager
async def running_gateway(env: Mapping[str, str]) -> AsyncIterator[RunningGateway]:
    settings = load_settings(env)
    gateway = Gateway(settings)
    await gateway.start()
    http = await start_http(gateway, settings.http.host, settings.http.port)
    try:
        yield RunningGateway(gateway, settings, http)
    finally:
        await gateway.stop()
        await http.stop()
