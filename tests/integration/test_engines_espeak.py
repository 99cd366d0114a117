"""espeak-ng, the fallback voice: Dutch works with no Piper Dutch voice installed."""

from __future__ import annotations

import asyncio

import pytest

from voice import engines
from voice.audio import concat, dbfs, loudest_window_dbfs
from voice.tts_espeak import EspeakError, EspeakTts


@pytest.fixture(scope="session")
def dutch() -> EspeakTts:
    tts = engines.build_tts("espeak", "nl", "nl")
    assert isinstance(tts, EspeakTts)
    return tts


async def test_dutch_sentence_has_plausible_length(dutch: EspeakTts) -> None:
    text = "Goedemorgen, u spreekt met de digitale assistent van de Rijksoverheid."
    chunks = [c async for c in dutch.synthesize(text)]
    assert len(chunks) == 1
    audio = chunks[0]
    assert audio.rate == 22050
    # 10 words at 160 words per minute ≈ 3.75 s; allow espeak's pauses and pace
    expected = len(text.split()) / dutch.rate_wpm * 60
    assert 0.5 * expected < audio.seconds < 2.0 * expected, audio.seconds
    assert dbfs(audio.pcm) > -35
    assert loudest_window_dbfs(audio.pcm, audio.rate) > -20


async def test_sentence_by_sentence(dutch: EspeakTts) -> None:
    text = "Wij zijn open van 8.00 tot 20.00 uur. Bel bijv. naar 0800-0543. Tot ziens!"
    chunks = [c async for c in dutch.synthesize(text)]
    assert len(chunks) == 3
    assert concat(chunks).seconds > 4


async def test_faster_rate_is_shorter() -> None:
    text = "Een ogenblik geduld alstublieft, u wordt doorverbonden."
    slow = await EspeakTts("nl", "nl", rate_wpm=120).synthesize_sentence(text)
    fast = await EspeakTts("nl", "nl", rate_wpm=240).synthesize_sentence(text)
    assert fast.seconds < 0.75 * slow.seconds


async def test_many_at_once(dutch: EspeakTts) -> None:
    texts = [f"Dit is zin nummer {n}." for n in range(6)]
    chunks = await asyncio.gather(*(dutch.synthesize_sentence(t) for t in texts))
    assert all(c.seconds > 0.8 for c in chunks)


async def test_text_is_not_taken_for_options(dutch: EspeakTts) -> None:
    chunk = await dutch.synthesize_sentence("-v en --help")
    assert chunk.seconds > 0.5


async def test_unknown_voice_is_named() -> None:
    with pytest.raises(EspeakError, match="'xx-nope'"):
        await EspeakTts("xx-nope", "xx").synthesize_sentence("hallo")
