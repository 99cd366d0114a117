"""What we say to a caller, queued and taken out one 20 ms frame at a time.

Shared by every media transport (RTP now, WebRTC next): ``play()`` returns a
future that says whether that piece was heard to the end (True) or cut short by
``flush()`` — barge-in, hold, hang-up (False). ``next_frame()`` never blocks and
returns silence when there is nothing to say, so a line is never dead.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass(slots=True)
class _Piece:
    pcm: bytes
    offset: int
    done: asyncio.Future[bool]


class Playout:
    def __init__(self, frame_samples: int) -> None:
        self.frame_bytes = 2 * frame_samples
        self._silence = b"\x00" * self.frame_bytes
        self._queue: deque[_Piece] = deque()
        self.closed = False
        self.paused = False

    def resize(self, frame_samples: int) -> None:
        """A new codec with another rate: what is queued is dropped (it has the old rate)."""
        if 2 * frame_samples != self.frame_bytes:
            self.flush()
            self.frame_bytes = 2 * frame_samples
            self._silence = b"\x00" * self.frame_bytes

    def play(self, pcm: bytes) -> asyncio.Future[bool]:
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self.closed or not pcm:
            done.set_result(not self.closed)
            return done
        self._queue.append(_Piece(pcm, 0, done))
        return done

    @property
    def playing(self) -> bool:
        return bool(self._queue)

    def backlog_samples(self) -> int:
        """Samples queued and not yet sent."""
        return sum(len(p.pcm) - p.offset for p in self._queue) // 2

    def flush(self) -> int:
        """Drop everything queued; returns the number of samples dropped."""
        dropped = 0
        while self._queue:
            piece = self._queue.popleft()
            dropped += (len(piece.pcm) - piece.offset) // 2
            if not piece.done.done():
                piece.done.set_result(False)
        return dropped

    def pause(self) -> None:
        """Silence until ``resume()``; what is queued waits (the caller may be saying "hm")."""
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def next_frame(self) -> bytes:
        """One frame of PCM: the next queued audio, padded with silence, or silence."""
        if not self._queue or self.paused:
            return self._silence
        need = self.frame_bytes
        parts: list[bytes] = []
        have = 0
        while self._queue and have < need:
            piece = self._queue[0]
            chunk = piece.pcm[piece.offset : piece.offset + need - have]
            piece.offset += len(chunk)
            parts.append(chunk)
            have += len(chunk)
            if piece.offset >= len(piece.pcm):
                self._queue.popleft()
                if not piece.done.done():
                    piece.done.set_result(True)
        frame = b"".join(parts)
        return frame + self._silence[: need - len(frame)]

    def close(self) -> None:
        self.closed = True
        self.flush()


class PlayoutMedia:
    """The outgoing half of a media leg whose audio is a :class:`Playout` (RTP, WebRTC)."""

    playout: Playout

    def play(self, pcm: bytes) -> asyncio.Future[bool]:
        """Queue PCM at the leg's rate; True when all of it was sent, False when flushed."""
        return self.playout.play(pcm)

    @property
    def playing(self) -> bool:
        return self.playout.playing

    def flush(self) -> int:
        """Drop queued audio now (barge-in); returns the number of samples dropped."""
        return self.playout.flush()

    def pause(self) -> None:
        self.playout.pause()

    def resume(self) -> None:
        self.playout.resume()

    def backlog_samples(self) -> int:
        return self.playout.backlog_samples()
