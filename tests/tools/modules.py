"""Import a file or a folder by path: the Rasa project's code (its actions, components,
scripts) runs in Rasa's own Python 3.10 venv, not as a package of this one."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_package(name: str, directory: Path) -> ModuleType:
    """Import `directory` as a package called `name` (its relative imports work)."""
    return _load(name, directory / "__init__.py", [str(directory)])


def load_module(name: str, path: Path) -> ModuleType:
    """Import the file *path* as module *name* (once per process)."""
    return _load(name, path, None)


def _load(name: str, path: Path, search: list[str] | None) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=search)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
