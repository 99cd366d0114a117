"""The gateway process: settings → engines → SIP, the voice sessions, Rasa, records, HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from config.settings import Settings
from dialogue.rasa_client import RasaClient
from dialogue.replies import Replies
from loket.desk.connector import DeskConnector
from loket.desk.hub import DeskHub
from loket.queue_backend import build_queue
from loket.sip_security import build_admission
from records.retention import DailyPurge, Limits, purge_target
from records.store import open_records
from telephony.call import Call
from telephony.calls import CallManager, TelephonyConfig
from telephony.webrtc import WebCall, WebRtcCalls, use_host_addresses
from voice import vad, workers
from voice.contracts import SttEngine, TtsEngine
from voice.engines import build_stt, build_tts
from voice.hold import hold_audio
from voice.language_id import recogniser_switch
from voice.model_registry import VAD_MODEL, Readiness, get_entry, resolve, voice_readiness
from voice.pool_probe import PoolProbe
from voice.prompt_cache import PromptCache
from voice.prompts import fixed_texts
from voice.session import CallSession, VoiceServices
from voice.speaker import Speaker
from voice.vad import VadConfig

log = logging.getLogger(__name__)

LINE_RATES = (8000, 16000)  # G.711 and G.722


@dataclass
class Voices:
    """The loaded engines, per language."""

    stt: dict[str, SttEngine] = field(default_factory=dict)
    tts: dict[str, list[TtsEngine]] = field(default_factory=dict)
    readiness: dict[str, Readiness] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)

    def voices(self, language: str) -> Sequence[TtsEngine]:
        return self.tts.get(language, [])

    def recognizer_engine(self, language: str) -> SttEngine | None:
        return self.stt.get(language)


def load_voices(settings: Settings) -> Voices:
    """Load every engine that can be had; note what could not (blocking: run in a thread)."""
    voices = Voices(readiness=voice_readiness(settings))
    for lang, ready in voices.readiness.items():
        conf = settings.languages[lang]  # type: ignore[index]
        problems = list(ready.missing)
        if ready.stt_path is not None:
            try:
                engine = ready.stt_engine or conf.stt.engine or "whisper"
                switch = recogniser_switch(settings.language_id, lang, settings.languages)
                voices.stt[lang] = build_stt(
                    engine,
                    ready.stt_path,
                    lang,
                    prompt=conf.stt.prompt,
                    switch=switch,
                    beam_size=conf.stt.beam_size,
                )
            except Exception as exc:
                problems.append(f"{lang}: speech recognition failed to load: {exc}")
        engines: list[TtsEngine] = []
        if ready.tts_path is not None:
            try:
                engines.append(
                    build_tts("piper", ready.tts_path, lang, length_scale=conf.tts.length_scale)
                )
            except Exception as exc:
                problems.append(f"{lang}: Piper voice failed to load: {exc}")
        if ready.fallback_voice is not None:
            engines.append(build_tts("espeak", ready.fallback_voice, lang))
        voices.tts[lang] = engines
        voices.problems[lang] = problems
    # The one sentence said to a caller in a language the assistant does not serve.
    for code, other in settings.language_id.other.items():
        if other.voice is not None:
            try:
                voices.tts[code] = [build_tts("espeak", other.voice, code)]
            except Exception as exc:
                voices.problems.setdefault(code, []).append(f"{code}: espeak-ng voice: {exc}")
    return voices


class Gateway:
    """Everything the gateway process runs, started and stopped together."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started = time.time()
        self.voices = Voices()
        self.records = open_records(settings.records)
        limits = Limits.of(settings.records)
        self.purge = DailyPurge(
            lambda now: purge_target(self.records.target, now, limits),
            done=lambda report: self.records.audit("gateway", "purge", None, report.summary()),
        )
        self.rasa = RasaClient(settings.rasa.url, settings.rasa.timeout_s)
        self.queue_backend = build_queue(settings)  # memory, or Redis shared by gateways
        self.queue = self.queue_backend.queue
        vs = settings.voice
        self.speaker = Speaker(
            self.voices.voices,
            PromptCache(vs.tts_cache_mb * 1024 * 1024, directory=vs.tts_cache_dir),
            budget_s=vs.tts_timeout_s,
        )
        self._hold: dict[int, bytes] = {}
        vc = settings.voice
        self.services = VoiceServices(
            settings=settings,
            speaker=self.speaker,
            stt=self.voices.recognizer_engine,
            dialogue=self.rasa,
            records=self.records,
            queue=self.queue,
            hold_audio=self._hold_audio,
            replies=Replies.load(settings.rasa.project_dir),
            vad_config=VadConfig(
                threshold=vc.vad_threshold,
                min_speech_ms=vc.min_speech_ms,
                trailing_silence_ms=vc.end_of_turn_ms,
            ),
        )
        sip, rtp = settings.sip, settings.rtp
        self.calls = CallManager(
            TelephonyConfig(
                sip_host=sip.host,
                sip_port=sip.port,
                transports=list(sip.transports),
                public_host=sip.public_host,
                max_calls=sip.max_calls,
                user_agent=sip.user_agent,
                ring_ms=sip.ring_ms,
                rtp_host=rtp.host,
                rtp_port_min=rtp.port_min,
                rtp_port_max=rtp.port_max,
                codecs=list(rtp.codecs),
                no_media_timeout_s=rtp.no_media_timeout_s,
                selfcheck_s=sip.selfcheck_s,
                dialogs_dir=sip.dialogs_dir or settings.records.path.parent / "sip-dialogs",
            ),
            self._run_session,
        )
        self.calls.core.admission = build_admission(sip.security, sip.host)
        self.hub = DeskHub(self.queue, self.records, ice_servers=list(settings.webrtc.ice_servers))
        self.services.agents = DeskConnector(
            self.hub, self.speaker, settings, self.records, self.calls
        )
        self.web = WebRtcCalls(
            self._run_web_session,
            ice_servers=list(settings.webrtc.ice_servers),
            max_calls=sip.max_calls,
        )
        self.sip_ready = False
        self.voices_loaded = False
        self.pool_probe = PoolProbe()
        self._warm_task: asyncio.Task[None] | None = None

    def _hold_audio(self, rate: int) -> bytes:
        if rate not in self._hold:
            self._hold[rate] = hold_audio(rate, self.settings.queue.hold_audio)
        return self._hold[rate]

    async def _run_session(self, call: Call) -> None:
        await CallSession(call, self.services).run()

    async def _run_web_session(self, call: WebCall) -> None:
        await CallSession(call, self.services).run()

    async def start(self) -> None:
        cut_off = self.records.end_abandoned("gateway restarted: the call was cut off")
        if cut_off:
            log.warning("records.calls_cut_off", extra={"calls": len(cut_off)})
        self.purge.start()
        workers.configure(self.settings.voice.threads)
        vad_model = resolve(get_entry(VAD_MODEL), self.settings.models.dir)
        if vad_model.path is None:
            log.warning("voice.vad_fallback", extra={"detail": vad_model.message()})
        vad.use_model(vad_model.path)
        use_host_addresses(self.settings.webrtc.host_addresses)
        loaded = await workers.run(load_voices, self.settings)
        self.voices.stt.update(loaded.stt)
        self.voices.tts.update(loaded.tts)
        self.voices.readiness = loaded.readiness
        self.voices.problems = loaded.problems
        self.voices_loaded = True
        self.pool_probe.start()
        for lang, problems in loaded.problems.items():
            for problem in problems:
                log.warning("voice.missing", extra={"language": lang, "detail": problem})
        self.queue_backend.start()
        await self.calls.start()
        self.sip_ready = True
        self._warm_task = asyncio.get_running_loop().create_task(self._warm_prompts())

    async def _warm_prompts(self) -> None:
        """Every fixed text is synthesized once (disk-cached), so it starts without TTS.

        One text at a time on the voice pool: callers' work is never queued behind a
        burst of start-up synthesis for long."""
        if not self.settings.voice.warm_prompts:
            return
        texts = await asyncio.to_thread(fixed_texts, self.settings)
        async for _ in self.speaker.warm_in_order(texts, LINE_RATES):
            pass
        log.info("voice.warmed", extra={"texts": len(texts)})

    async def stop(self, grace_s: float = 0.0) -> None:
        if grace_s > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace_s):
                    await self.calls.drain()
        if self._warm_task is not None:
            self._warm_task.cancel()
        await self.pool_probe.stop()
        await self.web.stop()
        await self.calls.stop()
        self.hub.close()
        await self.queue_backend.stop()
        await self.rasa.close()
        await self.purge.stop()
        self.records.close()

    # ------------------------------------------------------------------ health

    def _records_health(self) -> dict[str, Any]:
        """Not ready while writes fail; calls go on and what waits is written later."""
        self.records.retry()
        return {
            "ready": self.records.failing is None,
            "path": self.records.where,
            "backend": self.records.target.dialect,
            "error": self.records.failing,
            "waiting_writes": self.records.backlog,
            "lost_writes": self.records.dropped,
        }

    def _sip_health(self) -> dict[str, Any]:
        """Ready only while every transport answered the gateway's own OPTIONS."""
        endpoint, check = self.calls.endpoint, self.calls.selfcheck
        transports = {
            name: {
                "open": state.open,
                "reopened": state.reopened,
                "last_error": state.last_error,
                "selfcheck": check.states[name].as_dict() if name in check.states else None,
            }
            for name, state in endpoint.state.items()
        }
        return {
            "ready": self.sip_ready and check.ready,
            "port": endpoint.port,
            "transports": transports,
            "dropped": dict(endpoint.drops.counts),
            "refused": dict(admission.counts) if (admission := self.calls.core.admission) else {},
            "ended_after_restart": self.calls.ended_after_restart,
            "dialog_store_failures": store.failures if (store := self.calls.dialog_store) else 0,
        }

    async def health(self) -> dict[str, Any]:
        rasa_status, actions_ok = await asyncio.gather(
            self.rasa.status(), _actions_alive(self.settings)
        )
        languages = {}
        for lang in self.settings.languages:
            ready = lang in self.voices.stt and bool(self.voices.tts.get(lang))
            languages[lang] = {
                "voice_ready": ready,
                "stt": lang in self.voices.stt,
                "stt_model": getattr(self.voices.readiness.get(lang), "stt_model", None),
                "tts": [engine.name for engine in self.voices.tts.get(lang, [])],
                "missing": self.voices.problems.get(lang, []),
            }
        components: dict[str, dict[str, Any]] = {
            "sip": self._sip_health(),
            "rasa": {
                "ready": rasa_status is not None and bool(rasa_status.get("model_file")),
                "url": self.settings.rasa.url,
                "model": (rasa_status or {}).get("model_file"),
            },
            "actions": {"ready": actions_ok},
            "records": self._records_health(),
            "queue": self.queue_backend.health(),
            "voice": {
                "ready": self.voices_loaded and not self.pool_probe.stuck,
                "languages": languages,
                "pool": self.pool_probe.as_dict(),
            },
        }
        ready_langs = [lang for lang, info in languages.items() if info["voice_ready"]]
        all_ok = all(bool(c["ready"]) for c in components.values()) and len(ready_langs) == len(
            languages
        )
        return {
            "status": "ok" if all_ok else "degraded",
            "voice_ready_languages": ready_langs,
            "components": components,
            "calls": {
                "active": len(self.calls.calls) + len(self.web.calls),
                "web": len(self.web.calls),
                "total": self.calls.calls_total,
                "queued": len(self.queue.waiting()),
            },
            "uptime_s": round(time.time() - self.started),
            "pid": os.getpid(),
            "voice_pool": {
                "threads": workers.stats().threads,
                "queued": workers.stats().queued,
                "jobs": workers.job_times(),
            },
        }


async def _actions_alive(settings: Settings) -> bool:
    host = settings.rasa.url.split("://", 1)[1].split(":", 1)[0].split("/", 1)[0]
    url = f"http://{host}:{settings.rasa.actions_port}/health"
    try:
        async with aiohttp.ClientSession() as http, asyncio.timeout(1.5):
            async with http.get(url) as resp:
                return resp.status == 200
    except (TimeoutError, aiohttp.ClientError, OSError):
        return False


async def serve(settings: Settings) -> None:
    """Run the gateway until SIGINT/SIGTERM; then stop taking calls and finish (bounded)."""
    from loket.http import start_http

    gateway = Gateway(settings)
    await gateway.start()
    http = await start_http(gateway, settings.http.host, settings.http.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sip = settings.sip
    log.info(
        "gateway.ready",
        extra={
            "sip": f"sip:{sip.user}@{sip.public_host or '<host>'}:{sip.port}",
            "http": f"http://{settings.http.host}:{settings.http.port}/healthz",
        },
    )
    await stop.wait()
    log.info("gateway.stopping", extra={"active_calls": len(gateway.calls.calls)})
    await gateway.stop(grace_s=float(settings.sip.shutdown_grace_s))
    await http.stop()
