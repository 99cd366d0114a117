"""The supervisor's dashboard: the helpline's figures over a date range, and the research export.

Behind the supervisor role. The figures and the export read the records database on a
connection of their own, read-only, in a worker thread at low priority (counting and
grouping the unanswered questions is CPU work that must not hold up the calls); the
audit row of an export is written by the gateway's own store, on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import tempfile
import threading
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from config.settings import Settings
from loket.desk.auth import SupervisorUser
from loket.desk.routes import _page, script_response
from records import analytics, themes
from records.export import FORMATS, export
from records.store import site_salt

MAX_DAYS = 366
DEFAULT_DAYS = 7
FromDay = Annotated[str | None, Query(alias="from", description="first day, YYYY-MM-DD")]
ToDay = Annotated[str | None, Query(alias="to", description="last day, YYYY-MM-DD")]
_work = threading.Lock()  # one count at a time: two CPU cores are shared with the calls


class AuditWriter(Protocol):
    def audit(
        self, who: str, action: str, call_id: str | None = None, why: str | None = None
    ) -> None: ...


def _range(start: str | None, end: str | None) -> tuple[date, date]:
    try:
        last = date.fromisoformat(end) if end else date.today()
        first = date.fromisoformat(start) if start else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise HTTPException(400, "dates are YYYY-MM-DD") from None
    if last < first:
        raise HTTPException(400, "the range ends before it starts")
    if (last - first).days >= MAX_DAYS:
        raise HTTPException(400, f"at most {MAX_DAYS} days at a time")
    return first, last


def _low_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def compute_figures(
    path: Path, salt: str, first: date, last: date, service_level_s: float
) -> dict[str, Any]:
    """The report with its unanswered questions grouped into themes (blocking)."""
    _low_priority()
    with _work:
        db = analytics.open_readonly(path)
        try:
            body = analytics.report(
                db,
                first,
                last,
                service_level_s=service_level_s,
                no_pseudonym=analytics.no_pseudonym(salt),
            )
        finally:
            db.close()
        encode, method = themes.default_encode()
        body["themes"] = themes.themes(body.pop("unanswered"), encode=encode, method=method)
        return body


def export_zip(path: Path, first: date, last: date, fmt: str) -> tuple[bytes, str]:
    """The research export as one zip file, and its parameters for the audit log."""
    _low_priority()
    with _work, tempfile.TemporaryDirectory(prefix="loket-export-") as tmp:
        db = analytics.open_readonly(path)
        try:
            result = export(db, first, last, fmt, Path(tmp))  # type: ignore[arg-type]
        finally:
            db.close()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for f in result.files:
                z.write(f, f.name)
        params = json.loads(result.parameters(first, last, fmt))  # type: ignore[arg-type]
        params.pop("out", None)  # a temporary directory, gone already
        return buf.getvalue(), json.dumps(params)


def add_dashboard_routes(
    app: FastAPI, settings: Settings, records: Callable[[], AuditWriter]
) -> None:
    """``records``: the gateway's store, asked for when an export is audited."""
    path = settings.records.path

    @app.get("/supervisor/dashboard", response_class=HTMLResponse)
    async def dashboard_page(user: SupervisorUser) -> HTMLResponse:
        return _page("dashboard.html")

    @app.get("/dashboard.js")
    async def dashboard_script(user: SupervisorUser) -> Response:
        return script_response("dashboard.js")

    @app.get("/vendor/chart.umd.min.js")
    async def chart_library(user: SupervisorUser) -> Response:
        # Chart.js 4.6.1 (MIT, loket/web/vendor/chart.js-LICENSE.md), kept in the repository
        return script_response("vendor/chart.umd.min.js")

    @app.get("/api/supervisor/figures")
    async def figures(
        user: SupervisorUser, start: FromDay = None, end: ToDay = None
    ) -> JSONResponse:
        first, last = _range(start, end)
        if not path.exists():
            raise HTTPException(404, "no records yet")
        salt = site_salt(settings.records.caller_hash_salt, path)
        body = await asyncio.to_thread(
            compute_figures, path, salt, first, last, settings.records.service_level_s
        )
        return JSONResponse(body, headers={"cache-control": "no-store"})

    @app.get("/api/supervisor/export")
    async def research_export(
        user: SupervisorUser,
        start: FromDay = None,
        end: ToDay = None,
        format: str = "csv",
    ) -> Response:
        first, last = _range(start, end)
        if format not in FORMATS:
            raise HTTPException(400, f"format is one of {', '.join(FORMATS)}")
        if not path.exists():
            raise HTTPException(404, "no records yet")
        body, params = await asyncio.to_thread(export_zip, path, first, last, format)
        records().audit(user.name, "export", None, params)
        name = f"loket-export-{first.isoformat()}-{last.isoformat()}-{format}.zip"
        return Response(
            body,
            media_type="application/zip",
            headers={
                "content-disposition": f'attachment; filename="{name}"',
                "cache-control": "no-store",
            },
        )
