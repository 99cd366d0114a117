"""The earliest of many transaction deadlines, without scanning them all.

At 200 call set-ups per second a UDP gateway holds thousands of live
transactions (a BYE's stays 32 s for Timer J). Scanning each of them for the
earliest deadline after every message made the event loop the bottleneck of
the load benchmark. This heap keeps one entry per deadline a transaction was
given. An entry that reaches the top and no longer matches its transaction
is replaced by the transaction's current deadline (or dropped if it has none
or is gone), so a deadline that moved later is never lost.

The rule that keeps it exact: whoever changes a transaction's timers calls
:meth:`TimerHeap.watch` for it afterwards (the core does so after every
transaction method it calls) — a deadline moved *earlier* without a watch
would fire late.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable
from itertools import count
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class TimerHeap(Generic[K]):
    def __init__(self, deadline_of: Callable[[K], float | None]) -> None:
        """*deadline_of(key)*: the transaction's current deadline, None if it has none
        or is gone."""
        self._deadline_of = deadline_of
        self._heap: list[tuple[float, int, K]] = []
        self._order = count()

    def __len__(self) -> int:
        return len(self._heap)

    def watch(self, key: K, deadline: float | None) -> None:
        if deadline is not None:
            heapq.heappush(self._heap, (deadline, next(self._order), key))

    def earliest(self) -> float | None:
        heap = self._heap
        while heap:
            deadline, _, key = heap[0]
            current = self._deadline_of(key)
            if current == deadline:
                return deadline
            heapq.heappop(heap)
            self.watch(key, current)
        return None

    def due(self, now: float) -> list[K]:
        """Keys whose deadline has come, each once, earliest first; their entries leave
        the heap (watch them again after handling them)."""
        heap, keys, seen = self._heap, [], set()
        while heap and heap[0][0] <= now:
            deadline, _, key = heapq.heappop(heap)
            if key in seen:
                continue
            current = self._deadline_of(key)
            if current == deadline:
                seen.add(key)
                keys.append(key)
            else:
                self.watch(key, current)
        return keys
