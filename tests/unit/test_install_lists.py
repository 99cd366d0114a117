"""Every command the tests, benchmarks and the service run is installed by the project.

A new machine has only what the project's own files install: a command used somewhere
but missing from the Makefile's APT_COMMANDS passes on a machine where somebody
installed it by hand, and fails `make test` on a clean one (redis-server did).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("tests", "bench", "loket", "voice", "telephony", "dialogue", "scripts", "config")
# Essential Debian packages (coreutils, util-linux, mount) and the toolchain the machine
# is defined to have (python3, gcc, git, make): never missing, never installed by us.
ALWAYS_THERE = frozenset(
    "bash sh dd mount umount git cc gcc make python python3 kill true false".split()
)
_CALLS = re.compile(
    r"""(?:which|create_subprocess_exec|Popen|subprocess\.run|check_output|check_call)"""
    r"""\(\s*\[?\s*["']([A-Za-z][A-Za-z0-9_.+-]*)["']"""
)


def make_list(name: str) -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{name}\s*:?=\s*(.*)$", text, re.MULTILINE)
    assert match, f"Makefile has no {name}"
    return set(match.group(1).split())


def commands_used() -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for folder in SCANNED:
        for path in (ROOT / folder).rglob("*.py"):
            if ".venv" in path.parts:
                continue
            for cmd in _CALLS.findall(path.read_text(encoding="utf-8", errors="replace")):
                used.setdefault(cmd, []).append(str(path.relative_to(ROOT)))
    return used


OFF_PATH = {"initdb": "postgresql", "pg_ctl": "postgresql"}
"""Commands a Debian package installs off PATH (the Makefile checks PG_BIN_GLOB for them)."""


def test_every_command_used_is_installed_by_the_makefile() -> None:
    installed = make_list("APT_COMMANDS") | set(OFF_PATH)
    missing = {
        cmd: where
        for cmd, where in commands_used().items()
        if cmd not in installed and cmd not in ALWAYS_THERE
    }
    assert not missing, (
        "commands used but not installed by the project (add the Debian package to "
        f"APT_PACKAGES and the command to APT_COMMANDS in the Makefile): {missing}"
    )


def test_the_scan_sees_the_commands_it_should() -> None:
    """The scan itself works: it finds commands known to be used (else the test above
    would pass on an empty list)."""
    used = commands_used()
    assert {"sipp", "redis-server", "espeak-ng", "chromium"} <= set(used), sorted(used)


def test_every_listed_command_has_its_package() -> None:
    packages = make_list("APT_PACKAGES")
    # the command → Debian package pairs that differ in name
    provided_by = {
        "sipp": "sip-tester",
        "baresip": "baresip-core",
        "chromedriver": "chromium-driver",
        "redis-cli": "redis-tools",
    }
    for cmd in make_list("APT_COMMANDS"):
        assert provided_by.get(cmd, cmd) in packages, cmd


def test_postgresql_is_installed_and_checked_where_the_tests_look() -> None:
    from tests.tools.postgres import PG_BIN_GLOB

    assert set(OFF_PATH.values()) <= make_list("APT_PACKAGES")
    assert make_list("PG_BIN_GLOB") == {PG_BIN_GLOB}
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert 'ls $(PG_BIN_GLOB)/initdb >/dev/null 2>&1 || missing="$$missing postgresql"' in text
