"""What an end-to-end test reads back from a call on a :class:`~tests.stack.Stack`: the
records and what the caller heard (the helpers of :mod:`tests.phone_helpers`, by stack)."""

from __future__ import annotations

from tests import phone_helpers as ph
from tests.phone_helpers import heard_share, heard_since
from tests.stack import Stack

__all__ = ["heard_share", "heard_since", "last_event", "records", "until_recorded"]


def records(stack: Stack, since: int = 0) -> list[tuple[str, str]]:
    """The gateway's call records after event number *since*, as (kind, data)."""
    return ph.records(stack.records_path, since)


def last_event(stack: Stack) -> int:
    return ph.last_event(stack.records_path)


async def until_recorded(stack: Stack, kind: str, count: int, since: int, timeout: float) -> None:
    """Wait until the gateway has recorded *count* events of *kind* after *since*."""
    await ph.until_recorded(stack.records_path, kind, count, since, timeout)
