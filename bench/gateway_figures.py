"""What a gateway running in this process holds, for figures that must stay flat."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any

from loket.app import Gateway


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def figures(gateway: Gateway) -> dict[str, Any]:
    """RSS, open descriptors, asyncio tasks, threads, RTP ports and calls in use."""
    pid = os.getpid()
    return {
        "rss_mb": rss_mb(pid),
        "open_fds": len(os.listdir(f"/proc/{pid}/fd")),
        "asyncio_tasks": len(asyncio.all_tasks()),
        "threads": threading.active_count(),
        "rtp_ports_in_use": gateway.calls.ports.in_use,
        "sip_dialogs": len(gateway.calls.core.dialogs),
    }
