"""A model split over several Python packages: which bytes live where, and where they go.

Package registries cap a file's size, so some models are published as several wheels,
each holding a slice of ``model.bin`` (``model.bin.part1``, ``model.bin.part2``) and maybe
the small files. :class:`SplitPackageSource` says, per file of the model directory, which
package files to concatenate in order and what the result must hash to;
:mod:`voice.model_assemble` does the writing (``loket models fetch NAME``, offline).

Locating a part never imports the package (it holds data only): the part's path comes
from the import system's spec of the package.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class PackagePart:
    """One file inside an installed package."""

    distribution: str
    """The name given to ``pip install``."""
    module: str
    """The top-level import name the files live under."""
    path: str
    """Relative to the package's directory, e.g. ``data/model.bin.part1``."""


@dataclass(frozen=True, slots=True)
class AssembledFile:
    """A file of the model directory: its parts in order, and what they must add up to."""

    name: str
    parts: tuple[PackagePart, ...]
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class SplitPackageSource:
    files: tuple[AssembledFile, ...]
    checksum_origin: str = ""
    """Where the SHA-256 values came from."""

    @property
    def distributions(self) -> tuple[str, ...]:
        """Every package needed, in the order the parts first use them."""
        names: list[str] = []
        for f in self.files:
            for part in f.parts:
                if part.distribution not in names:
                    names.append(part.distribution)
        return tuple(names)

    def describe(self) -> str:
        split = [f"{f.name} from {len(f.parts)} parts" for f in self.files if len(f.parts) > 1]
        joined = f" ({', '.join(split)}, SHA-256 verified)" if split else ""
        return "packages " + " + ".join(self.distributions) + joined


def package_dir(module: str) -> Path | None:
    """Where an installed package's files are, or ``None`` when it is not installed."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def missing_packages(source: SplitPackageSource) -> list[str]:
    """Distributions whose package is not installed."""
    seen: dict[str, bool] = {}
    for f in source.files:
        for part in f.parts:
            if part.distribution not in seen:
                seen[part.distribution] = package_dir(part.module) is not None
    return [name for name, present in seen.items() if not present]


def part_path(part: PackagePart) -> Path | None:
    base = package_dir(part.module)
    return None if base is None else base / part.path
