"""The Rasa server speed settings (dialogue/rasa/channels/tuning.py), in the Rasa venv."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import RASA_DIR, SCRIPTS_DIR, load_module

project = load_module("loket_rasa_project", SCRIPTS_DIR / "project.py")

CHECK = """
import sys, sqlite3
from jsonschema import ValidationError
from channels import tuning
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import SQLTrackerStore

action = RemoteAction("action_x", None)
assert action._validate_action_result({"events": [], "responses": []})
for bad in ({"events": "not a list"}, {"events": [{"no_event_key": 1}]}):
    try:
        action._validate_action_result(bad)
    except ValidationError as e:
        assert "Failed to validate Action server response" in e.message
    else:
        raise SystemExit(f"accepted an invalid action reply: {bad}")

store = SQLTrackerStore(None, db=sys.argv[1])
with store.engine.connect() as conn:
    mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
    sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
assert (mode, sync) == ("wal", 1), (mode, sync)
print("ok")
"""


def test_tuning_keeps_validation_and_sets_sqlite_wal(tmp_path: Path) -> None:
    python = project.rasa_venv() / "bin" / "python"
    if not python.exists():
        message = "no Rasa environment: run `make rasa-venv`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [str(python), "-c", CHECK, str(tmp_path / "tracker.sqlite")],
        cwd=RASA_DIR,
        env=project.rasa_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]
