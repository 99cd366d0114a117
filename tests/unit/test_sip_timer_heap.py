"""The core's timer heap agrees with a scan of every deadline, whatever the moves."""

from __future__ import annotations

import random

import pytest

from telephony.sip.timer_heap import TimerHeap


def random_moves(rng: random.Random) -> list[tuple[int, float | None, bool]]:
    """(which transaction, its new deadline or None, whether its owner watches it)."""
    return [
        (rng.randrange(20), None if rng.random() < 0.2 else rng.uniform(0, 100), rng.random() < 0.5)
        for _ in range(rng.randrange(200))
    ]


@pytest.mark.parametrize("seed", range(300))
def test_earliest_and_due_match_a_scan(seed: int) -> None:
    rng = random.Random(seed)
    steps, now = random_moves(rng), rng.uniform(0, 100)
    deadlines: dict[int, float | None] = {}
    heap = TimerHeap[int](deadlines.get)
    for key, deadline, watched in steps:
        old = deadlines.get(key)
        if not watched and deadline is not None and (old is None or deadline < old):
            watched = True  # an earlier deadline must be watched (the heap's one rule)
        deadlines[key] = deadline
        if watched:
            heap.watch(key, deadline)
        live = [d for d in deadlines.values() if d is not None]
        assert heap.earliest() == (min(live) if live else None)
    due = heap.due(now)
    assert sorted(due) == sorted(k for k, d in deadlines.items() if d is not None and d <= now)
    assert len(due) == len(set(due))
    for key in due:  # handled: the owner ends them
        deadlines[key] = None
    live = [d for d in deadlines.values() if d is not None]
    assert heap.earliest() == (min(live) if live else None)


def test_gone_keys_leave_the_heap() -> None:
    deadlines = {1: 5.0, 2: 7.0}
    heap = TimerHeap[int](deadlines.get)
    for key, deadline in deadlines.items():
        heap.watch(key, deadline)
    del deadlines[1]
    assert heap.earliest() == 7.0
    assert heap.due(10.0) == [2] and len(heap) == 0
