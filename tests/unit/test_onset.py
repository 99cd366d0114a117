"""Fast voice onset and its end, window by window."""

from __future__ import annotations

from voice.onset import Onset, OnsetTracker


def run(tracker: OnsetTracker, probs: list[float]) -> list[tuple[int, Onset]]:
    return [(i, e) for i, p in enumerate(probs) if (e := tracker.feed(p)) is not None]


def test_onset_after_two_speech_windows_and_gone_after_four_quiet() -> None:
    events = run(OnsetTracker(), [0.1, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1])
    assert events == [(2, Onset.ONSET), (7, Onset.GONE)]


def test_a_single_click_is_no_onset_and_hesitant_probabilities_hold() -> None:
    tracker = OnsetTracker()
    assert run(tracker, [0.9, 0.1, 0.9, 0.1]) == []
    tracker = OnsetTracker()
    # between the thresholds the state holds: no flapping
    assert run(tracker, [0.8, 0.8, 0.4, 0.4, 0.4, 0.4, 0.4]) == [(1, Onset.ONSET)]
    assert tracker.active
