"""Speaking: sentence by sentence, a failing voice handed over mid-text, the prompt cache."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

from telephony.playout import Playout
from voice import workers
from voice.audio import silence
from voice.contracts import AudioChunk
from voice.prompt_cache import FORMAT, PromptCache
from voice.sentences import split_sentences
from voice.speaker import Speaker


class FakeTts:
    def __init__(self, name: str, rate: int, fail_on: str | None = None) -> None:
        self.name = name
        self.language = "nl"
        self.sample_rate = rate
        self.cache_key = f"{name}:{rate}"
        self.fail_on = fail_on
        self.spoken: list[str] = []

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        for sentence in split_sentences(text):
            if self.fail_on is not None and self.fail_on in sentence:
                raise RuntimeError("voice broke")
            self.spoken.append(sentence)
            yield silence(0.1, self.sample_rate)


class Line:
    sample_rate = 8000

    def __init__(self) -> None:
        self.playout = Playout(160)
        self.pieces: list[int] = []

    def play(self, pcm: bytes) -> asyncio.Future[bool]:
        self.pieces.append(len(pcm) // 2)
        fut = self.playout.play(pcm)
        while self.playout.playing:
            self.playout.next_frame()
        return fut

    def flush(self) -> int:
        return self.playout.flush()


async def test_a_failing_voice_hands_over_from_the_failing_sentence() -> None:
    primary = FakeTts("piper", 22050, fail_on="Twee")
    backup = FakeTts("espeak", 16000)
    speaker = Speaker(lambda _lang: [primary, backup])
    line = Line()
    spoken = await speaker.say(line, "Een. Twee. Drie.", "nl")
    assert primary.spoken == ["Een."] and backup.spoken == ["Twee.", "Drie."]
    assert spoken.complete and not spoken.failed
    assert line.pieces == [800, 800, 800]  # each 0.1 s sentence at the line's 8 kHz


async def test_no_voice_at_all_is_reported_not_silent() -> None:
    speaker = Speaker(lambda _lang: [FakeTts("piper", 22050, fail_on="")])
    spoken = await speaker.say(Line(), "Hallo.", "nl")
    assert spoken.failed and not spoken.complete


async def test_fixed_prompts_come_from_the_cache_without_synthesis() -> None:
    voice = FakeTts("piper", 22050)
    speaker = Speaker(lambda _lang: [voice], PromptCache())
    await speaker.warm(["Welkom. Hoe kan ik helpen?"], "nl", 8000)
    assert len(voice.spoken) == 2
    spoken = await speaker.say(Line(), "Welkom. Hoe kan ik helpen?", "nl")
    assert spoken.cached and spoken.complete and len(voice.spoken) == 2
    other_rate = Line()
    other_rate.sample_rate = 16000
    await speaker.say(other_rate, "Welkom. Hoe kan ik helpen?", "nl")
    assert len(voice.spoken) == 4  # another line rate is another rendering


async def test_the_disk_cache_survives_a_restart_and_serves_other_rates(tmp_path: Path) -> None:
    voice = FakeTts("piper", 22050)
    first = Speaker(lambda _lang: [voice], PromptCache(directory=tmp_path))
    await first.warm(["Goedendag. Waarmee kan ik u helpen?"], "nl", 8000)
    assert len(voice.spoken) == 2
    restarted = Speaker(lambda _lang: [voice], PromptCache(directory=tmp_path))
    line = Line()
    line.sample_rate = 16000
    spoken = await restarted.say(line, "Goedendag. Waarmee kan ik u helpen?", "nl")
    assert spoken.cached and len(voice.spoken) == 2  # no synthesis after the restart
    assert line.pieces == [1600, 1600]  # 0.1 s per sentence at 16 kHz, from 22.05 kHz audio


def test_a_foreign_cache_file_is_never_played(tmp_path: Path) -> None:
    cache = PromptCache(directory=tmp_path)
    cache.put("v", 8000, "Ja.", [b"\x01\x00"], [silence(0.01, 8000)])
    meta = next(tmp_path.glob("*/*.json"))
    meta.write_text(meta.read_text().replace('"Ja."', '"Nee."'))
    fresh = PromptCache(directory=tmp_path)
    assert fresh.get("v", 8000, "Ja.") is None


class QuietEdgesTts(FakeTts):
    """A voice that, like Piper, pads each sentence with quiet: 80 ms before, 400 ms after."""

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        rate = self.sample_rate
        t = np.arange(int(0.3 * rate)) / rate
        tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
        quiet = silence(0.08, rate).pcm, silence(0.4, rate).pcm
        for sentence in split_sentences(text):
            self.spoken.append(sentence)
            yield AudioChunk(quiet[0] + tone + quiet[1], rate)


async def test_the_quiet_before_a_sentence_is_cut_and_the_pause_after_it_bounded() -> None:
    speaker = Speaker(lambda _lang: [QuietEdgesTts("piper", 8000)])
    line = Line()
    await speaker.say(line, "Een. Twee.", "nl")
    # 20 ms lead + 300 ms tone + 250 ms pause, per sentence (was 80 + 300 + 400)
    assert line.pieces == [8 * (20 + 300 + 250)] * 2


async def test_a_sentence_of_only_quiet_is_kept_as_it_is() -> None:
    speaker = Speaker(lambda _lang: [FakeTts("piper", 8000)])
    line = Line()
    await speaker.say(line, "Een.", "nl")
    assert line.pieces == [800]


async def test_an_entry_of_an_older_cache_format_is_made_again_and_not_called_cached(
    tmp_path: Path,
) -> None:
    voice = FakeTts("piper", 8000)
    await Speaker(lambda _lang: [voice], PromptCache(directory=tmp_path)).warm(["Ja."], "nl", 8000)
    meta = next(tmp_path.glob("*/*.json"))
    meta.write_text(meta.read_text().replace(f'"format": {FORMAT}', '"format": 1'))
    restarted = Speaker(lambda _lang: [voice], PromptCache(directory=tmp_path))
    spoken = await restarted.say(Line(), "Ja.", "nl")
    assert not spoken.cached and len(voice.spoken) == 2  # synthesized again
    again = Speaker(lambda _lang: [voice], PromptCache(directory=tmp_path))
    assert (await again.say(Line(), "Ja.", "nl")).cached  # rewritten in the current format


async def test_warming_in_order_goes_on_past_a_text_no_voice_can_say(tmp_path: Path) -> None:
    voice = FakeTts("piper", 8000, fail_on="Kapot")
    speaker = Speaker(lambda _lang: [voice], PromptCache(directory=tmp_path))
    texts = [("nl", "Welkom."), ("nl", "Kapot."), ("en", "Hello.")]
    ready = [item async for item in speaker.warm_in_order(texts, (8000, 16000))]
    assert ready == texts  # in the given order, the failing one skipped over
    assert voice.spoken == ["Welkom.", "Hello."]  # once each: the second rate from the cache
    for rate in (8000, 16000):
        assert speaker.cache.get(voice.cache_key, rate, "Hello.") is not None


async def test_the_voice_hears_the_spoken_form_and_the_cache_is_keyed_by_it(
    tmp_path: Path,
) -> None:
    voice = FakeTts("piper", 8000)
    speaker = Speaker(lambda _lang: [voice], PromptCache(directory=tmp_path))
    await speaker.say(Line(), "De SVB betaalt de AOW rond de 23e. Bel 0800-0543.", "nl")
    assert voice.spoken == [
        "De S.V.B betaalt de A.O.W rond de drieëntwintigste.",
        "Bel nul achthonderd, nul vijf vier drie.",
    ]
    meta = next(tmp_path.glob("*/*.json")).read_text(encoding="utf-8")
    assert f'"format": {FORMAT}' in meta and "drieëntwintigste" in meta and "23e" not in meta


async def test_a_rendering_of_the_written_text_is_not_replayed(tmp_path: Path) -> None:
    old = PromptCache(directory=tmp_path)  # as before: the written text as the key
    old.put("piper:8000", 8000, "Bel 112.", [b"\0\0" * 80], [AudioChunk(b"\0\0" * 80, 8000)])
    voice = FakeTts("piper", 8000)
    spoken = await Speaker(lambda _lang: [voice], PromptCache(directory=tmp_path)).say(
        Line(), "Bel 112.", "nl"
    )
    assert not spoken.cached and voice.spoken == ["Bel één één twee."]


class HangingTts(FakeTts):
    """A voice whose pool job never returns (until released)."""

    def __init__(self, name: str, rate: int) -> None:
        super().__init__(name, rate)
        self.release = threading.Event()

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        await workers.run(self.release.wait, 30.0)
        yield silence(0.1, self.sample_rate)


async def test_a_hanging_voice_gives_way_at_its_budget_and_says_so() -> None:
    primary = HangingTts("piper", 22050)
    backup = FakeTts("espeak", 16000)
    speaker = Speaker(lambda _lang: [primary, backup], budget_s=0.3)
    try:
        spoken = await speaker.say(Line(), "Een. Twee.", "nl")
    finally:
        primary.release.set()
    # the hung sentence and the rest in the fallback voice; the record can tell
    assert backup.spoken == ["Een.", "Twee."] and not spoken.failed
    assert spoken.faults == ("piper took longer than 0.3 s",)


async def test_no_voice_at_all_reports_every_fault() -> None:
    speaker = Speaker(
        lambda _lang: [FakeTts("piper", 22050, fail_on="Een"), FakeTts("espeak", 16000, "Een")]
    )
    spoken = await speaker.say(Line(), "Een.", "nl")
    assert spoken.failed
    assert spoken.faults == ("piper failed: RuntimeError", "espeak failed: RuntimeError")
