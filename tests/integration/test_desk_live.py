"""The desk's live WebSocket on the real gateway: a supervisor sees agents and queues change
without reloading; an agent's screen is refused commands it may not give."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Origin

from tests.gateway_fixture import gateway_env, running_gateway

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


def add_user(env: dict[str, str], name: str, role: str, skills: str = "") -> None:
    args = ["users", "add", name, "--role", role, "--password-stdin"]
    if skills:
        args += ["--skills", skills]
    done = subprocess.run(
        [sys.executable, "-m", "loket.cli", *args], input=PASSWORD + "\n", text=True,
        capture_output=True, cwd=ROOT, env={**os.environ, **env}, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


async def login(base: str, name: str) -> str:
    async with httpx.AsyncClient(base_url=base, trust_env=False) as http:
        r = await http.post(
            "/login", json={"username": name, "password": PASSWORD}, headers={"origin": base}
        )
        assert r.status_code == 200, r.text
        return str(http.cookies["loket-desk"])


async def next_view(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(decode=True), 10))
        if message.get("type") == kind:
            return message  # type: ignore[no-any-return]


async def test_supervisor_sees_an_agent_come_and_go_live(tmp_path: Path) -> None:
    env = gateway_env(tmp_path)
    add_user(env, "sam", "supervisor")
    add_user(env, "anna", "agent", "algemeen")
    async with running_gateway(env) as gw:
        base = f"http://127.0.0.1:{gw.settings.http.port}"
        url = f"ws://127.0.0.1:{gw.settings.http.port}/ws/desk"
        sam, anna = await login(base, "sam"), await login(base, "anna")
        async with ws_connect(
            url, origin=Origin(base), additional_headers={"cookie": f"loket-desk={sam}"}, proxy=None
        ) as supervisor:
            first = await next_view(supervisor, "supervisor")
            assert first["agents"] == [] and {q["name"] for q in first["queues"]} >= {"algemeen"}
            async with ws_connect(
                url, origin=Origin(base), additional_headers={"cookie": f"loket-desk={anna}"},
                proxy=None,
            ) as agent:  # fmt: skip
                mine = await next_view(agent, "view")
                assert mine["me"]["state"] == "break"  # not offered calls until they choose
                await agent.send(json.dumps({"type": "state", "state": "available"}))
                refused = json.loads(await agent.recv(decode=True))
                assert refused == {
                    "type": "error",
                    "error": "connect your audio first (microphone)",
                }
                seen = await next_view(supervisor, "supervisor")
                assert [a["agent_id"] for a in seen["agents"]] == ["anna"]
                await supervisor.send(json.dumps({"type": "accept", "call_id": "x"}))
                assert json.loads(await supervisor.recv(decode=True))["type"] in (
                    "error",
                    "supervisor",
                )
            gone = await next_view(supervisor, "supervisor")
            while any(a["state"] != "offline" for a in gone["agents"]):
                gone = await next_view(supervisor, "supervisor")
            # the agent closed the desk: offline at once
            assert [a["state"] for a in gone["agents"]] in ([], ["offline"])
