"""The one typed settings object.

Loaded from ``config/default.yaml``, then each file named in ``LOKET_CONFIG``
(colon separated; ``config/local.yaml`` when present), then ``LOKET_…``
environment variables: ``LOKET_SIP__PORT=5070`` sets ``sip.port``; values are
read as YAML scalars, so ``LOKET_SIP__TRANSPORTS='[udp]'`` gives a list.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.language_id import LanguageIdSettings
from config.sip_security import SipSecuritySettings

CONFIG_DIR = Path(__file__).resolve().parent
PROJECT_DIR = CONFIG_DIR.parent
DEFAULT_FILE = CONFIG_DIR / "default.yaml"
LOCAL_FILE = CONFIG_DIR / "local.yaml"
ENV_PREFIX = "LOKET_"
PROCESS_VARIABLES = frozenset({"LOKET_CONFIG", "LOKET_LOG_LEVEL", "LOKET_PROFILE"})
"""LOKET_ variables that are about the process, not settings."""

Language = Literal["nl", "en"]
Transport = Literal["udp", "tcp"]
CodecName = Literal["PCMU", "PCMA", "G722"]
_TRANSPORTS: list[Transport] = ["udp", "tcp"]
_CODECS: list[CodecName] = ["PCMU", "PCMA", "G722"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _project_path(value: Path | None) -> Path | None:
    """Relative paths in config are relative to the project directory."""
    if value is None or value.is_absolute():
        return value
    return PROJECT_DIR / value


class SipSettings(_Section):
    host: str = "0.0.0.0"
    """Address the SIP listeners bind to."""
    port: int = Field(5060, ge=1, le=65535)
    transports: list[Transport] = Field(default_factory=lambda: list(_TRANSPORTS))
    public_host: str | None = None
    """Address written into Contact and SDP; default: the address the caller reached us on."""
    user: str = "helpline"
    max_calls: int = Field(40, ge=1)
    user_agent: str = "Loket"
    ring_ms: int = Field(200, ge=0, le=10_000)
    """How long to send 180 Ringing before answering."""
    shutdown_grace_s: float = Field(15.0, ge=0, le=3600)
    """On SIGTERM: stop taking calls, let calls in progress go on this long."""
    selfcheck_s: float = Field(5.0, ge=0.5, le=300)
    """How often the gateway sends itself an OPTIONS over each transport (/healthz)."""
    dialogs_dir: Path | None = None
    """Where answered calls' dialogs are kept, so that a gateway restarted after a crash
    can send their BYE. Default: ``sip-dialogs`` next to the records database."""
    security: SipSecuritySettings = SipSecuritySettings()
    """Trusted sources, digest accounts, rate limits, scanners (config/sip_security.py)."""

    _resolve_dialogs = field_validator("dialogs_dir")(_project_path)

    @field_validator("transports")
    @classmethod
    def _some_transport(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one of udp, tcp is needed")
        return value


class RtpSettings(_Section):
    host: str = "0.0.0.0"
    port_min: int = Field(20000, ge=1024, le=65534)
    port_max: int = Field(20999, ge=1025, le=65535)
    codecs: list[CodecName] = Field(default_factory=lambda: list(_CODECS))
    no_media_timeout_s: float = Field(60.0, gt=0)
    """A call with no RTP from the caller for this long is ended (dead peer)."""

    @model_validator(mode="after")
    def _range(self) -> RtpSettings:
        if self.port_max - self.port_min < 1:
            raise ValueError("port_max must be above port_min (one even/odd pair per call)")
        return self


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)


class WebRtcSettings(_Section):
    ice_servers: list[str] = Field(default_factory=list)
    """STUN/TURN URLs for browsers behind NAT (none: host candidates only)."""
    host_addresses: list[str] | None = None
    """ICE host candidates to offer; null: every interface but loopback (aioice's choice).
    ``[127.0.0.1]`` for a loopback-only host or tests."""


class DeskSettings(_Section):
    store_path: Path = PROJECT_DIR / "var" / "desk.sqlite"
    """Accounts and sessions (SQLite, WAL); ``loket users`` writes the same file."""
    secure_cookies: bool = False
    """True when browsers reach the desk over HTTPS (TLS proxy): cookie ``__Host-``, Secure."""
    origins: list[str] = Field(default_factory=list)
    """Origins the desk is served from, e.g. ``[https://desk.example.nl]``; empty: the
    request's Host. Needed behind a proxy that rewrites Host."""
    session_idle_minutes: float = Field(30.0, gt=0, le=24 * 60)
    session_max_hours: float = Field(12.0, gt=0, le=7 * 24)

    _resolve = field_validator("store_path")(_project_path)

    @model_validator(mode="after")
    def _lifetimes(self) -> DeskSettings:
        if self.session_idle_minutes * 60 > self.session_max_hours * 3600:
            raise ValueError("session_idle_minutes must not exceed session_max_hours")
        return self


class RasaSettings(_Section):
    url: str = "http://127.0.0.1:5005"
    timeout_s: float = Field(4.0, gt=0, le=60)
    actions_port: int = Field(5055, ge=1, le=65535)
    project_dir: Path = PROJECT_DIR / "dialogue" / "rasa"

    _resolve = field_validator("project_dir")(_project_path)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class SttSettings(_Section):
    engine: Literal["vosk", "whisper"] | None = None
    """Only models of this engine may be named; null: each model's own engine."""
    model: str | None = None
    """Name of an entry in the model registry (``loket models list``)."""
    models: list[str] | None = None
    """Instead of ``model``: registry names, best first; the first present is used."""
    prompt: str | None = None
    """Whisper: text given to the decoder as what came before (the helpline's words)."""
    beam_size: int = Field(1, ge=1, le=10)
    """Whisper: decoder beams. Whisper base on 120 real Dutch lines (bench/dutch_stt.py):
    beam 5 WER 54.5 % (16 kHz) / 62.2 % (G.711) against 59.3 / 67.6 % greedy, for ~1.5x
    the decode time (≈ 0.9 s instead of 0.6 s for 3 s of speech on two cores)."""

    @model_validator(mode="after")
    def _one_choice(self) -> SttSettings:
        if (self.model is None) == (self.models is None):
            raise ValueError(
                "set either model (one registry name) or models (a list, best first); to "
                "replace one set in another config file, set the other to null"
            )
        if self.models is not None and not self.models:
            raise ValueError("models must name at least one registry entry")
        if self.models is not None and len(set(self.models)) != len(self.models):
            raise ValueError("models must not name an entry twice")
        return self

    @property
    def preference(self) -> tuple[str, ...]:
        """The registry names to try, best first."""
        return (self.model,) if self.model is not None else tuple(self.models or ())


class TtsSettings(_Section):
    engine: Literal["piper", "espeak"]
    voice: str
    """Piper: a model registry entry; espeak: an espeak-ng voice name."""
    fallback_voice: str
    """espeak-ng voice used when the Piper voice is missing or fails."""
    length_scale: float = Field(1.0, gt=0.3, lt=3.0)


class LanguageSettings(_Section):
    stt: SttSettings
    tts: TtsSettings
    greeting: str
    """The AI disclosure spoken on answer, with the ways out."""
    disclosure: str = ""
    """The disclosure alone, said once when the caller's speech switches the call to this
    language (the greeting was heard in another); empty: the greeting's first sentence."""
    apology: str
    """Spoken when a component fails, before the handoff."""
    handoff: str
    """Spoken when the call is passed to the queue."""
    hold_announcement: str
    """Repeated while the caller waits for an agent."""
    not_heard: str
    """Spoken when the caller said nothing we could recognise."""
    goodbye: str
    no_agent: str
    """Spoken when the call ends because no agent came (twice the maximum wait)."""
    queue_position: str
    """Announcement while waiting; ``{position}`` is filled in."""
    queue_wait_one: str
    queue_wait_many: str
    """Expected wait; ``{minutes}`` is filled in (one / several minutes)."""
    queue_wait_unknown: str
    callback_offer: str
    callback_confirmed: str
    connecting: str
    """Spoken to the caller while the agent hears the summary."""
    agent_lost: str
    """The agent's connection dropped: the caller is back at the head of the queue."""
    transferring: str
    """An agent transfers the caller to another organisation."""
    queue: str | None = None
    """Skill queue of agents who speak this language: where the gateway's own handoffs of
    a caller in this language go (Rasa's come with their queue). None: the general queue."""


class VoiceSettings(_Section):
    threads: int = Field(2, ge=1, le=64)
    """Size of the bounded pool running STT/TTS/VAD engine calls."""
    vad_threshold: float = Field(0.5, gt=0, lt=1)
    end_of_turn_ms: int = Field(500, ge=100, le=3000)
    """Trailing silence that ends the caller's turn when the words give no clue."""
    end_of_turn_early_ms: int = Field(250, ge=100, le=3000)
    """A complete question ("… paid?") ends the turn after only this much silence."""
    end_of_turn_max_ms: int = Field(1000, ge=100, le=5000)
    """Words trailing off ("ik wil eh …") stretch the wait up to this."""
    end_of_turn_peek_ms: int = Field(100, ge=20, le=3000)
    """Silence after which the recogniser looks at the words so far (a speculative
    transcription that takes a few hundred ms itself; the final result reuses it)."""
    min_speech_ms: int = Field(200, ge=20, le=2000)
    max_turn_s: float = Field(20.0, gt=1)
    barge_in: bool = True
    greeting_interruptible: bool = False
    """Whether the caller's voice can cut the greeting (the AI disclosure); keys always can."""
    barge_in_confirm_ms: int = Field(600, ge=100, le=3000)
    """Voice over the bot pauses it at once; lasting this long it interrupts (shorter:
    a backchannel — "ja", "hm" — and the bot resumes)."""
    no_input_s: float = Field(8.0, ge=2, le=60)
    """Silence after the bot finished before the caller is prompted."""
    no_input_limit: int = Field(3, ge=1, le=10)
    """Prompts for a silent caller before the call goes to an agent."""
    tts_cache_dir: Path | None = PROJECT_DIR / "var" / "tts-cache"
    """Synthesized fixed texts kept on disk across restarts (null: memory only)."""
    tts_cache_mb: int = Field(64, ge=0, le=4096)
    """Memory for synthesized speech, all line rates together."""
    warm_prompts: bool = True
    """Synthesize every fixed text (settings and Rasa responses) at start-up, in the
    background, so answers start without synthesis."""
    stt_timeout_s: float = Field(10.0, ge=1, le=120)
    """Budget for each call into a caller's recogniser (the end-of-turn decode included);
    past it the call goes to a human. Measured (bench/results/engine_budgets.json, one
    thread): whisper-base 0.33 s for a 3 s utterance, 0.5 s for 10 s, 2.7 s for 20 s
    (max_turn_s; past the short window it re-runs in the full one); pool waiting under
    load adds up to a second (bench/results/load.json). 10 s is ~3.7× the worst decode:
    a caller on a loaded machine is not handed off for a slow answer, and one whose
    recogniser hangs waits no longer than a long pause."""
    tts_timeout_s: float = Field(6.0, ge=1, le=120)
    """Budget for each sentence's synthesis (its first audio); past it the next voice
    (espeak-ng) is tried. Piper (en_US-joe-medium, one thread) took 0.43 s for a 7.8 s
    sentence (bench/results/engine_budgets.json) and 0.63 s for a first sentence on a
    busier machine (engines.json): 6 s is ~10× that, room for a busy pool."""

    _resolve = field_validator("tts_cache_dir")(_project_path)

    @model_validator(mode="after")
    def _turn_bounds(self) -> VoiceSettings:
        if not self.end_of_turn_early_ms <= self.end_of_turn_ms <= self.end_of_turn_max_ms:
            raise ValueError("need end_of_turn_early_ms <= end_of_turn_ms <= end_of_turn_max_ms")
        if self.end_of_turn_peek_ms > self.end_of_turn_early_ms:
            raise ValueError("need end_of_turn_peek_ms <= end_of_turn_early_ms")
        return self


class QueueSettings(_Section):
    hold_announcement_every_s: float = Field(30.0, ge=5)
    hold_audio: Path | None = None
    """WAV played while waiting; default: a generated gentle tone pattern."""
    max_wait_s: float = Field(1800.0, gt=0)
    """From this wait on the caller is offered a callback anyway; at twice this wait the
    call ends politely (a callback stays possible all along)."""
    queues: list[str] = Field(default_factory=list)
    """Topic/skill queues; the general queue exists as well. Agents' skills are queue names."""
    general_queue: str = "general"
    """Name of the general queue; the name ``general`` (the gateway's own handoffs) means it
    too. Unknown queue names in a handoff wait here (logged as acd.unknown_queue)."""
    offer_timeout_s: float = Field(20.0, gt=0, le=300)
    """An offer not accepted within this time moves on to the next agent."""
    after_missed_offer: Literal["break", "available"] = "break"
    """State of an agent who let an offer time out ("not ready on no answer")."""
    decline_cooldown_s: float = Field(60.0, ge=0, le=3600)
    """A call an agent declined or missed is not offered to them again for this long."""
    wrap_up_s: float = Field(30.0, ge=0, le=3600)
    """After-call work; then back to available automatically (0: at once)."""
    callbacks: bool = True
    """Whether a waiting caller may ask for a callback (key 1)."""
    default_handle_s: float = Field(300.0, gt=0)
    """Handle time assumed for a queue before any call there was handled (expected wait)."""
    handle_time_window: int = Field(20, ge=1, le=1000)
    """Handled calls per queue in the rolling average handle time."""

    _resolve = field_validator("hold_audio")(_project_path)

    # Several gateways: the queue and agent presence in Redis (telephony.acd_redis).
    backend: Literal["memory", "redis"] = "memory"
    """Where the queue and agent presence live: this gateway's memory, or Redis shared by
    every gateway (one queue, agents at any gateway's desk take any gateway's callers)."""
    redis_url: str | None = None
    """``redis://host:6379/0`` (``rediss://`` with TLS, ``unix:///path``); needed for redis."""
    redis_namespace: str = Field("loket:acd", min_length=1, pattern=r"^[A-Za-z0-9:_.-]+$")
    """Prefix of the keys; gateways sharing a queue use the same one."""
    gateway_id: str | None = Field(None, min_length=1, pattern=r"^[A-Za-z0-9:_.-]+$")
    """This gateway's name in the shared queue (it owns its callers); default host:sip-port."""
    redis_heartbeat_s: float = Field(5.0, ge=0.5, le=60)
    """Each gateway says it is alive this often; one silent for 3 beats is taken out: its
    callers leave the queue, agents at its desks are disconnected (their calls requeued)."""

    @model_validator(mode="after")
    def _redis_backend(self) -> QueueSettings:
        if self.redis_url is not None and not self.redis_url.startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError(
                "queue.redis_url must start with redis://, rediss:// or unix:// "
                "(e.g. redis://127.0.0.1:6379/0)"
            )
        if self.backend == "redis" and self.redis_url is None:
            raise ValueError(
                "queue.backend is redis but queue.redis_url is not set "
                "(e.g. redis://127.0.0.1:6379/0); or use queue.backend: memory"
            )
        return self

    @field_validator("queues")
    @classmethod
    def _queue_names(cls, value: list[str]) -> list[str]:
        if any(not name.strip() for name in value):
            raise ValueError("queue names must not be empty")
        if len(set(value)) != len(value):
            raise ValueError("queue names must be unique")
        return value


class RecordsSettings(_Section):
    path: Path = PROJECT_DIR / "var" / "records.sqlite"
    caller_hash_salt: str | None = None
    """Secret for the hashed caller number. Default: a random one made on first start and
    kept next to the database (``<path>.salt``), so hashes stay stable for this site."""
    raw_retention_days: float = Field(7.0, ge=0)
    """Days after a call's end that the raw caller text (``caller_said``/``backchannel``
    ``text``) is kept for the agents; after that only its redacted form remains
    (``loket records purge``). 0: purge as soon as the call has ended."""
    retention_days: float = Field(365.0, gt=0)
    """Days after a call's end that any event text (also redacted) is kept; after that the
    text fields are emptied and the rows stay for counts."""
    aggregate_retention_days: float | None = Field(730.0, gt=0)
    """Days after a call's end that its rows (the counts behind the KPIs) are kept; after
    that the call and its events are deleted. null: kept for ever."""
    backend: Literal["sqlite", "postgresql"] = "sqlite"
    """``sqlite``: the file at ``path`` (one gateway); ``postgresql``: the database at
    ``postgres_dsn``, shared by several gateways."""
    postgres_dsn: str | None = None
    """libpq connection string or URL, e.g. ``postgresql://loket:secret@db/loket``."""
    gateway_name: str | None = None
    """This gateway's name in the records (whose open calls it ends after a restart);
    default: the host name. Must differ between gateways sharing a PostgreSQL database."""
    service_level_s: float = Field(40.0, gt=0, le=3600)
    """The line's service-level standard: an agent accepts a queued call within this many
    seconds (the supervisor's figures report the share that did)."""

    _resolve = field_validator("path")(_project_path)

    @model_validator(mode="after")
    def _raw_within_content(self) -> RecordsSettings:
        if self.raw_retention_days > self.retention_days:
            raise ValueError("raw_retention_days must not be longer than retention_days")
        if (
            self.aggregate_retention_days is not None
            and self.aggregate_retention_days < self.retention_days
        ):
            raise ValueError(
                "aggregate_retention_days must not be shorter than retention_days"
                " (the rows outlive their text)"
            )
        return self

    @model_validator(mode="after")
    def _postgres(self) -> RecordsSettings:
        # checked here, not per field: an error message must not echo a DSN's password
        if self.backend != "postgresql":
            return self
        example = "LOKET_RECORDS__POSTGRES_DSN=postgresql://loket@db-host/loket"
        if not self.postgres_dsn:
            raise ValueError(
                f"records.postgres_dsn is required when records.backend is postgresql; set it"
                f" (e.g. {example}) or use records.backend: sqlite"
            )
        from psycopg.conninfo import conninfo_to_dict

        try:
            conninfo_to_dict(self.postgres_dsn)
        except Exception as exc:
            raise ValueError(
                f"records.postgres_dsn is not a valid libpq connection string"
                f" ({type(exc).__name__}); write it as a URL (e.g. {example}) or as"
                " 'host=... dbname=... user=...'"
            ) from None
        if not self.caller_hash_salt:
            raise ValueError(
                "records.caller_hash_salt is required when records.backend is postgresql"
                " (every gateway must hash caller numbers alike); set the same secret on"
                " each, e.g. LOKET_RECORDS__CALLER_HASH_SALT=$(openssl rand -hex 32)"
            )
        return self


class DtmfSettings(_Section):
    human: str = "0"
    english: str = "9"

    @field_validator("human", "english")
    @classmethod
    def _digit(cls, value: str) -> str:
        if value not in set("0123456789*#"):
            raise ValueError("must be one DTMF key: 0-9, * or #")
        return value


class ModelsSettings(_Section):
    dir: Path = PROJECT_DIR / "models"
    fetch_timeout_s: float = Field(60.0, gt=0)
    mirror: str | None = None
    """Base URL (http, https or file://) serving ``<name>/<file>``: a local mirror for
    offline sites and tests; ``LOKET_MODELS__MIRROR``."""

    _resolve = field_validator("dir")(_project_path)


class Settings(_Section):
    sip: SipSettings = SipSettings()
    rtp: RtpSettings = RtpSettings()
    http: HttpSettings = HttpSettings()
    webrtc: WebRtcSettings = WebRtcSettings()
    desk: DeskSettings = DeskSettings()
    rasa: RasaSettings = RasaSettings()
    voice: VoiceSettings = VoiceSettings()
    queue: QueueSettings = QueueSettings()
    records: RecordsSettings = RecordsSettings()
    dtmf: DtmfSettings = DtmfSettings()
    models: ModelsSettings = ModelsSettings()
    default_language: Language = "nl"
    languages: dict[Language, LanguageSettings]
    language_id: LanguageIdSettings = LanguageIdSettings()
    """The caller's language from speech: switch, or a person for other languages."""
    opening_hours: dict[Language, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _default_language_configured(self) -> Settings:
        if self.default_language not in self.languages:
            raise ValueError(
                f"default_language {self.default_language!r} has no entry under languages"
            )
        return self

    @model_validator(mode="after")
    def _other_languages(self) -> Settings:
        known = {*self.queue.queues, self.queue.general_queue, "general"}
        for served, lang in self.languages.items():
            if lang.queue is not None and lang.queue not in known:
                raise ValueError(
                    f"languages.{served}.queue: {lang.queue!r} is not a queue; "
                    f"add it to queue.queues or choose one of {', '.join(sorted(known))}"
                )
        for code, other in self.language_id.other.items():
            if code in self.languages:
                raise ValueError(
                    f"language_id.other.{code}: {code} is served (under languages); "
                    "remove it from language_id.other"
                )
            if other.queue is not None and other.queue not in known:
                raise ValueError(
                    f"language_id.other.{code}.queue: {other.queue!r} is not a queue; "
                    f"add it to queue.queues or choose one of {', '.join(sorted(known))}"
                )
        return self

    @field_validator("sip", mode="after")
    @classmethod
    def _public_host(cls, value: SipSettings) -> SipSettings:
        if value.public_host is not None:
            try:
                ipaddress.ip_address(value.public_host)
            except ValueError as exc:
                raise ValueError("sip.public_host must be an IP address") from exc
        return value


class ConfigError(Exception):
    """Invalid configuration; ``str()`` names each bad key and its fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


def _merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError([f"{path}: file not found (check LOKET_CONFIG)"]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: must hold a mapping of settings at the top level"])
    return data


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name in PROCESS_VARIABLES:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return tree


def _env_name(loc: tuple[str | int, ...]) -> str:
    keys: list[str] = []
    for part in loc:
        if isinstance(part, int):  # a list item: the variable sets the whole list
            break
        keys.append(part.upper())
    return ENV_PREFIX + "__".join(keys)


def _explain(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        kind = item["type"]
        if kind == "extra_forbidden":
            parent = ".".join(str(p) for p in loc[:-1]) or "the top level"
            fix = f"remove it, or check its spelling against {parent} in config/default.yaml"
            problems.append(f"{key}: unknown setting; {fix}")
            continue
        if kind == "missing":
            problems.append(f"{key}: required but missing; add it (see config/default.yaml)")
            continue
        got = item.get("input")
        if isinstance(got, dict):  # a rule across a section's settings
            problems.append(
                f"{key}: {item['msg']}; fix the settings it names under {key} in your config"
                f" file, or their {_env_name(loc)}__… variables"
            )
            continue
        problems.append(
            f"{key}: {item['msg']} (got {got!r}); fix it in your config file or set"
            f" {_env_name(loc)}"
        )
    return problems


def config_files(environ: Mapping[str, str]) -> list[Path]:
    files = [DEFAULT_FILE]
    extra = environ.get("LOKET_CONFIG")
    if extra:
        files += [Path(p) for p in extra.split(":") if p]
    elif LOCAL_FILE.exists():
        files.append(LOCAL_FILE)
    return files


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings object or raise :class:`ConfigError` naming every bad key."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    for path in config_files(env):
        data = _merge(data, _read_yaml(path))
    data = _merge(data, _env_overrides(env))
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None
