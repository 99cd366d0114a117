"""Answered dialogs on disk, so a gateway killed mid-call can still say BYE after restart.

A process that dies with ``kill -9`` (or a crash) takes its dialogs with it: the
caller's phone keeps an open call with silence until its own RTP or session timer
gives up, which many phones never do. The gateway writes each answered UDP dialog
here (one small JSON file, mode 600, atomically replaced) and deletes it when the call
ends; what is left at start-up belongs to calls the last process never ended, and
each gets its BYE.

No fsync: the files must survive the process, not the machine (after a power cut the
caller's call is gone anyway). TCP dialogs are not kept: their connection died with the
process and the gateway opens no outbound TCP, so those callers' phones see the
connection close instead.

The files hold the dialog's From/To headers (the caller's address) for the length of
the call, like the process's memory does; they never leave the var directory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from telephony.sip.dialog import Dialog, DialogState
from telephony.sip.transaction import Peer

log = logging.getLogger(__name__)

FORMAT = 1
CSEQ_MARGIN = 1000
"""Added to the stored CSeq on restore: requests sent after the file was written (a
REFER, an INFO) used numbers the file does not know, and ours must be higher."""


def to_json(dialog: Dialog) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "call_id": dialog.call_id,
        "local_tag": dialog.local_tag,
        "remote_tag": dialog.remote_tag,
        "local_header": dialog.local_header,
        "remote_header": dialog.remote_header,
        "remote_target": dialog.remote_target,
        "route_set": list(dialog.route_set),
        "peer": [dialog.peer.transport, dialog.peer.host, dialog.peer.port],
        "local": [dialog.local_host, dialog.local_port],
        "local_cseq": dialog.local_cseq,
        "remote_cseq": dialog.remote_cseq,
        "outgoing": dialog.outgoing,
    }


def from_json(data: dict[str, Any]) -> Dialog:
    """A confirmed dialog, ready for a BYE. Raises ValueError/KeyError/TypeError on junk."""
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown dialog file format {data.get('format')!r}")
    transport, host, port = data["peer"]
    local_host, local_port = data["local"]
    return Dialog(
        call_id=str(data["call_id"]),
        local_tag=str(data["local_tag"]),
        remote_tag=str(data["remote_tag"]),
        local_header=str(data["local_header"]),
        remote_header=str(data["remote_header"]),
        remote_target=str(data["remote_target"]),
        route_set=[str(r) for r in data["route_set"]],
        peer=Peer(str(transport), str(host), int(port)),
        local_host=str(local_host),
        local_port=int(local_port),
        invite=None,
        invite_key=(),
        state=DialogState.CONFIRMED,
        remote_cseq=int(data["remote_cseq"]),
        local_cseq=int(data["local_cseq"]) + CSEQ_MARGIN,
        outgoing=bool(data.get("outgoing", False)),
    )


class DialogStore:
    """One file per answered dialog under *directory*.

    With *background*, the writes and deletes run in one thread of their own, in the
    order they were asked for: at 200 set-ups a second the file system calls were an
    eighth of the event loop's time. The dialog is turned into text on the caller's
    side, so the thread never reads a dialog the loop is changing.
    """

    def __init__(self, directory: Path, *, background: bool = False) -> None:
        self.directory = directory
        self.failures = 0
        """Writes or deletes that failed (a full or read-only disk): calls go on."""
        self._writer = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="dialog-store")
            if background
            else None
        )

    def _path(self, call_id: str) -> Path:
        return self.directory / (hashlib.sha256(call_id.encode()).hexdigest()[:32] + ".json")

    def _run(self, fn: Callable[[], None]) -> None:
        if self._writer is None:
            fn()
            return
        try:
            self._writer.submit(fn)
        except RuntimeError:  # closed: the gateway is stopping
            fn()

    def save(self, dialog: Dialog) -> None:
        if dialog.peer.transport != "udp":
            return
        text = json.dumps(to_json(dialog))
        self._run(partial(self._write, self._path(dialog.call_id), text))

    def remove(self, call_id: str) -> None:
        self._run(partial(self._unlink, self._path(call_id)))

    def close(self) -> None:
        """Wait for the writes asked for so far (the files must be right when we exit)."""
        if self._writer is not None:
            self._writer.shutdown(wait=True)

    def _write(self, path: Path, text: str) -> None:
        tmp = path.with_suffix(".tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.replace(tmp, path)
        except OSError as exc:
            self.failures += 1
            log.warning("sip.dialog_store_failed", extra={"op": "save", "error": str(exc)})

    def _unlink(self, path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            self.failures += 1
            log.warning("sip.dialog_store_failed", extra={"op": "remove", "error": str(exc)})

    def take_all(self) -> list[Dialog]:
        """The dialogs a previous process left; their files are removed (junk too)."""
        found: list[Dialog] = []
        try:
            paths = sorted(self.directory.glob("*.json"))
        except OSError:
            return found
        for path in paths:
            try:
                found.append(from_json(json.loads(path.read_text())))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("sip.dialog_file_unreadable", extra={"error": str(exc)})
            try:
                path.unlink(missing_ok=True)
            except OSError:
                self.failures += 1
        for tmp in self.directory.glob("*.tmp"):
            tmp.unlink(missing_ok=True)
        return found
