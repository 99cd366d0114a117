"""Settings: defaults, overrides, and errors that name the key and the fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_load_and_paths_are_project_relative() -> None:
    s = load_settings({})
    assert s.sip.port == 5060 and s.default_language == "nl"
    assert s.records.path.is_absolute() and s.records.path.parent.name == "var"
    assert set(s.languages) == {"nl", "en"}


def test_environment_overrides_are_typed() -> None:
    s = load_settings({"LOKET_SIP__PORT": "5070", "LOKET_SIP__TRANSPORTS": "[udp]"})
    assert s.sip.port == 5070 and s.sip.transports == ["udp"]


def test_config_files_merge_in_order(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("sip:\n  port: 5080\nlanguages:\n  en:\n    goodbye: Bye now.\n")
    s = load_settings({"LOKET_CONFIG": str(site)})
    assert s.sip.port == 5080 and s.languages["en"].goodbye == "Bye now."
    assert s.languages["en"].greeting.startswith("You are speaking")  # the rest stays


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"LOKET_SIP__PORT": "70000"}, "sip.port: Input should be less than or equal to 65535"),
        ({"LOKET_SIP__PORT": "70000"}, "LOKET_SIP__PORT"),
        ({"LOKET_SIP__PROT": "5060"}, "sip.prot: unknown setting"),
        ({"LOKET_RTP__CODECS": "[OPUS]"}, "set LOKET_RTP__CODECS"),
        (
            {"LOKET_RTP__PORT_MIN": "30000", "LOKET_RTP__PORT_MAX": "30000"},
            "port_max must be above",
        ),
        ({"LOKET_DEFAULT_LANGUAGE": "fr"}, "default_language"),
        ({"LOKET_DTMF__HUMAN": "x"}, "must be one DTMF key"),
        ({"LOKET_SIP__PUBLIC_HOST": "my.host"}, "must be an IP address"),
        ({"LOKET_RASA__URL": "localhost:5005"}, "must start with http://"),
    ],
)
def test_errors_name_the_key_and_the_fix(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env)
    assert needle in str(err.value)


def test_bad_yaml_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("sip: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_settings({"LOKET_CONFIG": str(bad)})
    assert str(bad) in str(err.value) and "not valid YAML" in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_settings({"LOKET_CONFIG": str(tmp_path / "missing.yaml")})
    assert "file not found" in str(err.value)


def run_loket(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loket.cli", *args],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_config_check_explains_and_the_gateway_refuses_to_start() -> None:
    check = run_loket("config", "check", LOKET_SIP__PORT="0")
    assert check.returncode == 2
    assert "sip.port" in check.stderr and "LOKET_SIP__PORT" in check.stderr
    serve = run_loket("serve", LOKET_SIP__PORT="0")
    assert serve.returncode == 2
    assert "sip.port" in serve.stderr and "loket config check" in serve.stderr


def test_config_check_reports_voice_readiness() -> None:
    check = run_loket("config", "check")
    assert check.returncode == 0, check.stderr
    assert "Configuration OK" in check.stdout
    assert "en: voice ready" in check.stdout


def test_config_check_fails_on_a_misspelt_model_name(tmp_path: Path) -> None:
    conf = tmp_path / "site.yaml"
    conf.write_text(
        "languages:\n  nl:\n    stt:\n      models: [whisper-base, whisper-smal]\n"
        "    tts: {engine: piper, voice: nl_NL-msl-medium, fallback_voice: nl}\n"
    )
    check = run_loket("config", "check", LOKET_CONFIG=str(conf))
    assert check.returncode == 2, check.stdout
    assert "languages.nl.stt.models[1]" in check.stderr and "'whisper-smal'" in check.stderr
    assert "languages.nl.tts.voice" in check.stderr and "nl_NL-msl-medium" in check.stderr


def test_caller_numbers_are_hashed_with_a_per_site_secret(tmp_path: Path) -> None:
    from records.store import Records, hash_caller

    db = tmp_path / "r.sqlite"
    first = Records(db, None)
    second = Records(db, None)  # a restart keeps the site's salt: hashes stay comparable
    assert first.salt == second.salt and len(first.salt) == 64
    assert (db.parent / "r.sqlite.salt").stat().st_mode & 0o077 == 0
    other_site = Records(tmp_path / "other" / "r.sqlite", None)
    assert hash_caller("+31201234567", first.salt) != hash_caller("+31201234567", other_site.salt)
    assert Records(tmp_path / "x.sqlite", "configured").salt == "configured"


def test_process_variables_are_not_settings() -> None:
    s = load_settings({"LOKET_LOG_LEVEL": "DEBUG", "LOKET_PROFILE": "/tmp/p.txt"})
    assert s.sip.port == 5060
