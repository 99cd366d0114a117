"""Load the Rasa-side code (actions package, scripts) for the gateway's pytest.

The Rasa project runs on its own Python; its pure modules are imported here under
private names so nothing called `actions` or `project` lands on sys.path.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
RASA_DIR = ROOT / "dialogue" / "rasa"
SCRIPTS_DIR = ROOT / "scripts" / "rasa"


def load_package(name: str, directory: Path) -> ModuleType:
    """Import `directory` as a package called `name` (its relative imports work)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, directory / "__init__.py", submodule_search_locations=[str(directory)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_module(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
