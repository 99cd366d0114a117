"""The supervisor dashboard over a crafted records store: the JSON figures, the export download
with its audit row, the refusal of an agent (403), and the charts drawn in headless Chromium."""

from __future__ import annotations

import csv
import io
import json
import shutil
import struct
import zipfile
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from config.settings import load_settings
from loket.desk.auth import DeskAuth
from loket.desk.passwords import ScryptCost, hash_password
from loket.http import create_app
from records.store import Records
from tests.integration.test_desk_access import serving
from tests.unit.analytics_fixtures import crafted_store

CHEAP = ScryptCost(10, 8, 1)
PASSWORD = "correct horse battery"
RANGE = "from=2026-11-02&to=2026-11-03"
CHROMIUM = shutil.which("chromium")
BAR_RGB = (0x01, 0x68, 0x9B)
"""The dashboard's first chart colour (COLOURS[0] in dashboard.js)."""


def gateway_app(tmp_path: Path) -> tuple[FastAPI, DeskAuth, Records]:
    store = crafted_store(tmp_path)  # tmp_path / "r.sqlite", salt "salt"
    settings = load_settings(
        {
            "LOKET_RECORDS__PATH": str(store.path),
            "LOKET_RECORDS__CALLER_HASH_SALT": "salt",
            "LOKET_DESK__STORE_PATH": str(tmp_path / "desk.sqlite"),
        }
    )
    gateway = SimpleNamespace(settings=settings, hub=SimpleNamespace(), records=store)
    app = create_app(cast(Any, gateway))
    auth: DeskAuth = app.state.desk_auth
    auth.store.add("sanne", "supervisor", (), hash_password(PASSWORD, CHEAP), 0.0)
    auth.store.add("anna", "agent", ("algemeen",), hash_password(PASSWORD, CHEAP), 0.0)
    return app, auth, store


def _login(client: TestClient, name: str) -> None:
    r = client.post(
        "/login",
        json={"username": name, "password": PASSWORD},
        headers={"origin": client.base_url.__str__()},
    )
    assert r.status_code == 200, r.text


def test_supervisor_gets_figures_and_export_an_agent_gets_403(tmp_path: Path) -> None:
    app, auth, store = gateway_app(tmp_path)
    try:
        with TestClient(app) as agent:
            _login(agent, "anna")
            for path in (
                f"/api/supervisor/figures?{RANGE}",
                f"/api/supervisor/export?{RANGE}&format=csv",
                "/supervisor/dashboard",
                "/dashboard.js",
                "/vendor/chart.umd.min.js",
            ):
                assert agent.get(path).status_code == 403, path
        with TestClient(app) as sup:
            _login(sup, "sanne")
            body = sup.get(f"/api/supervisor/figures?{RANGE}").json()
            assert body["total"]["calls"] == 9 and body["total"]["service_level"] == 0.25
            assert sum(t["count"] for t in body["themes"]["themes"]) == 3
            assert "unanswered" not in body  # grouped into themes, not listed raw
            assert (
                sup.get("/api/supervisor/figures?from=2026-11-03&to=2026-11-02").status_code == 400
            )
            assert sup.get("/api/supervisor/figures?from=yesterday").status_code == 400
            assert sup.get(f"/api/supervisor/export?{RANGE}&format=xls").status_code == 400
            r = sup.get(f"/api/supervisor/export?{RANGE}&format=parquet")
            assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
            names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
            assert sorted(names) == ["DICTIONARY.md", "calls.parquet", "events.parquet"]
        [entry] = store.audit_log()
        assert (entry["who"], entry["action"]) == ("sanne", "export")
        params = json.loads(entry["why"])
        assert params == {
            "from": "2026-11-02", "to": "2026-11-03", "format": "parquet", "calls": 9,
            "events": params["events"],
        }  # fmt: skip
        assert params["events"] > 0
    finally:
        auth.close()
        store.close()


def png_pixels(data: bytes) -> np.ndarray:
    """(h, w, channels) uint8 from an 8-bit, non-interlaced RGB(A) PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6) and header[12] == 0
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    out = np.zeros((height, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        cur = line.copy()
        if f == 2:
            cur = (line + prev) & 0xFF
        elif f in (1, 3, 4):
            for x in range(stride):
                a = cur[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                if f == 1:
                    pred = a
                elif f == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[x] = (line[x] + pred) & 0xFF
        out[y], prev = cur, cur
    return out.reshape(height, width, bpp).astype(np.uint8)


def bar_pixels(png: bytes) -> int:
    px = png_pixels(png)[:, :, :3].astype(np.int32)
    return int((np.abs(px - np.array(BAR_RGB)).sum(axis=2) < 30).sum())


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium")
async def test_dashboard_draws_its_charts_and_downloads_the_export(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    app, auth, store = gateway_app(tmp_path)
    try:
        async with serving(app) as host, async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                page = await browser.new_page(
                    accept_downloads=True, viewport={"width": 1280, "height": 900}
                )
                console: list[str] = []
                page.on("console", lambda m: console.append(m.text))
                await page.goto(f"http://{host}/supervisor/dashboard?{RANGE}")
                assert page.url.endswith("/login")
                await page.fill("#gebruikersnaam", "sanne")
                await page.fill("#wachtwoord", PASSWORD)
                await page.click("#verstuur")
                await page.wait_for_url(f"http://{host}/desk")
                await page.goto(f"http://{host}/supervisor/dashboard?{RANGE}")
                await page.wait_for_function(
                    "() => window.dashboard.state !== 'loading'", timeout=60_000
                )
                assert await page.evaluate("window.dashboard.state") == "ready", console
                assert await page.evaluate("window.dashboard.data.total.calls") == 9
                tiles = await page.text_content("#tiles")
                assert tiles is not None and "25 %" in tiles  # the service level
                charts = [
                    "chart-days",
                    "chart-hours",
                    "chart-handoffs",
                    "chart-abandoned",
                    "chart-csat",
                ]
                assert sorted(
                    await page.evaluate("Object.keys(window.dashboard.charts)")
                ) == sorted(charts)
                for chart in charts:
                    canvas = page.locator(f"#{chart}")
                    box = await canvas.bounding_box()
                    assert box is not None and box["width"] > 200 and box["height"] > 100, chart
                    shot = await canvas.screenshot()
                    # bars in the chart colour inside the canvas: drawn, not just an empty frame
                    assert bar_pixels(shot) > 100, chart
                themes = await page.text_content("#themes")
                assert themes is not None and "visum" in themes
                assert "111222333" not in (await page.content())
                await page.select_option("#format", "csv")
                async with page.expect_download() as info:
                    await page.click("#export")
                download = await info.value
                saved = tmp_path / "export.zip"
                await download.save_as(saved)
                with zipfile.ZipFile(saved) as z:
                    calls = list(csv.DictReader(io.StringIO(z.read("calls.csv").decode())))
                    events = z.read("events.csv").decode()
                assert len(calls) == 9 and "111222333" not in events
                assert not [c for c in console if "Content Security Policy" in c], console
            finally:
                await browser.close()
        [entry] = store.audit_log()
        assert entry["who"] == "sanne" and json.loads(entry["why"])["format"] == "csv"
    finally:
        auth.close()
        store.close()
