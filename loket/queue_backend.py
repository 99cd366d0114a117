"""The gateway's queue from its settings: this process only, or shared through Redis."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from config.settings import Settings
from telephony.acd_model import AcdConfig
from telephony.agent_queue import InProcessQueue

log = logging.getLogger(__name__)


def safe_url(url: str) -> str:
    """The URL without its password (for logs, health and ``loket config check``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def gateway_id(settings: Settings) -> str:
    return settings.queue.gateway_id or f"{socket.gethostname()}:{settings.sip.port}"


def describe(settings: Settings) -> str:
    """One line for ``loket config check``."""
    q = settings.queue
    if q.backend == "memory":
        return "in this gateway's memory (one gateway)"
    assert q.redis_url is not None
    return (
        f"Redis {safe_url(q.redis_url)} key prefix {{{q.redis_namespace}}}, "
        f"this gateway {gateway_id(settings)}"
    )


@dataclass
class QueueBackend:
    """The queue adapter, plus what a shared queue needs started and stopped."""

    queue: InProcessQueue
    backend: str
    relay: Any = None
    """A :class:`telephony.acd_redis.RedisEventRelay` for the redis backend."""

    def start(self) -> None:
        if self.relay is not None:
            self.queue.run(self.relay.state.restarted)
            self.relay.start()

    async def stop(self) -> None:
        self.queue.close()
        if self.relay is not None:
            await self.relay.close()
            self.relay.state.client.close()

    def health(self) -> dict[str, Any]:
        if self.relay is None:
            return {"ready": True, "backend": self.backend}
        state = self.relay.state
        try:
            state.client.ping()
            ready = True
        except Exception as exc:  # any client error means: not usable now
            log.warning("acd.redis_unreachable", extra={"error": type(exc).__name__})
            ready = False
        return {
            "ready": ready and self.relay.subscribed.is_set(),
            "backend": self.backend,
            "gateway_id": state.gateway_id,
            "conflicts": state.conflicts,
        }


def build_queue(settings: Settings) -> QueueBackend:
    config = AcdConfig.from_mapping(settings.queue.model_dump())
    q = settings.queue
    if q.backend == "memory":
        return QueueBackend(InProcessQueue(config), "memory")
    from telephony.acd_redis import RedisEventRelay, RedisQueueState, connect

    assert q.redis_url is not None
    state = RedisQueueState(
        config, connect(q.redis_url), gateway_id=gateway_id(settings), namespace=q.redis_namespace
    )
    queue = InProcessQueue(config, state=state, publish_own=False)
    relay = RedisEventRelay(
        q.redis_url,
        state,
        queue.apply_remote,
        queue.reconcile,
        reap=lambda: queue.run(state.reap),
        heartbeat_s=q.redis_heartbeat_s,
    )
    log.info(
        "acd.shared_queue", extra={"redis": safe_url(q.redis_url), "gateway": state.gateway_id}
    )
    return QueueBackend(queue, "redis", relay)
