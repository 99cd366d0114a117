"""Fast voice onset for barge-in, ahead of the (slower, surer) start of a turn.

The segmenter confirms speech only after ``min_speech_ms``, which is right for turns
and too late for barge-in: a caller who starts talking over the bot should hear it
stop at once. This tracker reports *onset* after a couple of speech windows, and
*gone* when the voice stops again before the turn is confirmed — a cough, "hm",
"ja" — so playback can pause at onset and resume on gone. Sans-IO: one
probability per 32 ms window in, events out.
"""

from __future__ import annotations

from enum import Enum


class Onset(Enum):
    ONSET = "onset"
    GONE = "gone"


class OnsetTracker:
    def __init__(
        self,
        *,
        threshold: float = 0.5,
        neg_threshold: float | None = None,
        onset_windows: int = 2,
        gone_windows: int = 4,
    ) -> None:
        self.threshold = threshold
        self.neg_threshold = (
            neg_threshold if neg_threshold is not None else max(0.01, threshold - 0.15)
        )
        self.onset_windows = onset_windows
        self.gone_windows = gone_windows
        self.active = False
        self._run = 0
        self._quiet = 0

    def feed(self, prob: float) -> Onset | None:
        if prob >= self.threshold:
            self._run += 1
            self._quiet = 0
            if not self.active and self._run >= self.onset_windows:
                self.active = True
                return Onset.ONSET
            return None
        self._run = 0
        if prob < self.neg_threshold and self.active:
            self._quiet += 1
            if self._quiet >= self.gone_windows:
                self.active = False
                self._quiet = 0
                return Onset.GONE
        return None

    def reset(self) -> None:
        self.active = False
        self._run = 0
        self._quiet = 0
