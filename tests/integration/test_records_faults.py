"""The records disk fails mid-call: read-only, then full. Calls go on, /healthz tells,
and what could not be written is written once the disk takes it again.

The database lives on a small tmpfs the test mounts (as root), remounts read-only
and fills up: the file system really refuses, nothing in SQLite is faked.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from records.store import Records
from tests.gateway_fixture import RunningGateway, gateway_env, running_gateway
from tests.tools.peers import SIPP, sipp_argv

pytestmark = [pytest.mark.interop, pytest.mark.skipif(SIPP is None, reason="sipp not installed")]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:  # not root: the project cannot give itself the privilege
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def remount(where: Path, mode: str) -> None:
    mount("-o", f"remount,{mode}", str(where))


async def health(gw: RunningGateway) -> dict[str, object]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{gw.settings.http.port}/healthz")
    assert response.status_code == 200  # degraded, still taking calls
    records = response.json()["components"]["records"]
    assert isinstance(records, dict)
    return records


async def wait_for(predicate: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def long_call(port: int, workdir: Path, hold_ms: int) -> asyncio.subprocess.Process:
    workdir.mkdir(parents=True, exist_ok=True)
    return await asyncio.create_subprocess_exec(
        *sipp_argv(port, "uac", "-d", str(hold_ms), timeout_s=60),
        cwd=workdir, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def test_calls_go_on_when_the_records_disk_fills_up(small_disk: Path, tmp_path: Path) -> None:
    env = gateway_env(tmp_path, records__path=str(small_disk / "records.sqlite"))
    async with running_gateway(env) as gw:
        caller = await long_call(gw.sip_port, tmp_path / "sipp", hold_ms=5000)
        await wait_for(lambda: any("answered" in gw.kinds(str(c["id"])) for c in gw.calls()))
        call_id = str(gw.calls()[0]["id"])
        before = gw.kinds(call_id)
        filler = small_disk / "filler"
        dd = await asyncio.create_subprocess_exec(
            "dd", "if=/dev/zero", f"of={filler}", "bs=64k",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await dd.wait()  # exits non-zero: "No space left on device"
        try:
            # the caller hears the greeting, is handed to an agent (Rasa is down here) and
            # hangs up; meanwhile the WAL cannot grow and the events wait in memory
            assert await asyncio.wait_for(caller.wait(), 60) == 0
            await wait_for(lambda: gw.records.backlog > 0)
            state = await health(gw)
            assert state["ready"] is False and state["waiting_writes"], state
            assert "full" in str(state["error"]), state
            # a new call is answered while the disk is full
            second = await long_call(gw.sip_port, tmp_path / "sipp2", hold_ms=500)
            assert await asyncio.wait_for(second.wait(), 60) == 0
        finally:
            filler.unlink(missing_ok=True)
        await asyncio.sleep(Records.RETRY_EVERY_S)
        state = await health(gw)  # /healthz retries the waiting writes
        assert state["ready"] is True and state["waiting_writes"] == 0, state
        assert state["lost_writes"] == 0
        kinds = gw.kinds(call_id)
        assert kinds[: len(before)] == before  # nothing already written was lost
        assert kinds[-1] == "ended" and len(kinds) > len(before)
        assert len(gw.calls()) == 2
        ended = gw.records.call(call_id)
        assert ended is not None and ended["ended_by"] == "caller"


async def test_a_read_only_records_disk_at_start_up_does_not_stop_calls(
    small_disk: Path, tmp_path: Path
) -> None:
    """A file system that is read-only when the gateway starts (Linux remounts a failing
    disk read-only): calls are taken, and recorded once the disk is writable again."""
    view = tmp_path / "view"
    view.mkdir()
    mount("--bind", str(small_disk), str(view))
    try:
        mount("-o", "remount,bind,ro", str(view))
        env = gateway_env(tmp_path, records__path=str(view / "records.sqlite"))
        async with running_gateway(env) as gw:
            state = await health(gw)
            assert state["ready"] is False and state["error"], state
            caller = await long_call(gw.sip_port, tmp_path / "sipp", hold_ms=500)
            assert await asyncio.wait_for(caller.wait(), 60) == 0
            await wait_for(lambda: gw.records.backlog > 0)
            remount(view, "bind,rw")
            await asyncio.sleep(Records.RETRY_EVERY_S)
            state = await health(gw)
            assert state["ready"] is True and state["waiting_writes"] == 0, state
            calls = gw.calls()
            assert len(calls) == 1 and calls[0]["ended_by"] == "caller"
            assert {"answered", "ended"} <= set(gw.kinds(str(calls[0]["id"])))
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)  # noqa: ASYNC221
