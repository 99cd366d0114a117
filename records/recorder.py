"""What a call writes to its record: the narrow interface the call session uses.

The session and the desk depend on this Protocol, not on a store, so a store (SQLite
today, PostgreSQL later) can be swapped without touching them."""

from __future__ import annotations

from typing import Any, Protocol


class Recorder(Protocol):
    def call_started(self, call_id: str, channel: str, caller: str, language: str) -> None: ...

    def update_call(self, call_id: str, **fields: Any) -> None: ...

    def event(self, call_id: str, kind: str, **data: Any) -> None: ...
