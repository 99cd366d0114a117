"""The playout queue shared by RTP and WebRTC media."""

from __future__ import annotations

import asyncio

from telephony.playout import Playout


async def test_frames_pieces_and_silence() -> None:
    playout = Playout(frame_samples=4)
    assert playout.next_frame() == b"\x00" * 8
    first = playout.play(b"\x01\x00" * 6)
    second = playout.play(b"\x02\x00" * 3)
    assert playout.next_frame() == b"\x01\x00" * 4
    assert not first.done()
    assert playout.next_frame() == b"\x01\x00" * 2 + b"\x02\x00" * 2
    assert first.result() is True and not second.done()
    assert playout.next_frame() == b"\x02\x00" + b"\x00\x00" * 3
    assert second.result() is True and not playout.playing


async def test_flush_reports_what_was_cut() -> None:
    playout = Playout(frame_samples=4)
    piece = playout.play(b"\x01\x00" * 10)
    playout.next_frame()
    assert playout.flush() == 6
    assert piece.result() is False
    assert playout.next_frame() == b"\x00" * 8


async def test_closed_playout_refuses_and_resize_drops_old_rate() -> None:
    playout = Playout(frame_samples=4)
    pending = playout.play(b"\x01\x00" * 10)
    playout.resize(8)
    assert pending.result() is False and len(playout.next_frame()) == 16
    playout.close()
    late = playout.play(b"\x01\x00")
    await asyncio.sleep(0)
    assert late.result() is False
