"""``loket models list`` and ``loket models fetch``.

``loket/cli.py`` calls :func:`add_models_parser` on its subparsers; each command sets
``func`` (``args.func(args) -> int``, the exit code). ``python -m loket.models_cli list``
runs the same commands without the main CLI.

Exit codes: 0 everything asked for is present; 1 something is still missing (a download
failed, or a package is not installed); 2 bad usage or invalid configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from config.settings import ConfigError, Settings, load_settings
from voice.model_assemble import assemble_entry
from voice.model_fetch import FetchError, FetchOptions, fetch_entry
from voice.model_parts import SplitPackageSource
from voice.model_registry import (
    ENTRIES,
    REGISTRY,
    ModelEntry,
    Resolution,
    UnknownModelError,
    UrlSource,
    espeak_entry,
    get_entry,
    needed_entries,
    resolve,
    voice_readiness,
)

EXIT_OK, EXIT_MISSING, EXIT_USAGE = 0, 1, 2


def add_models_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``models list`` and ``models fetch`` under the main ``loket`` parser."""
    models = subparsers.add_parser(
        "models",
        help="show and download the speech models",
        description="The model registry: what each language needs, what is here, "
        "and downloads of what is missing (SHA-256 verified).",
    )
    models.set_defaults(func=lambda args: _usage(models))
    sub = models.add_subparsers(title="commands", metavar="COMMAND")

    listing = sub.add_parser("list", help="show every model: present or missing, where, licence")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=cmd_list)

    fetch = sub.add_parser(
        "fetch",
        help="download missing models (default: those the configured languages need)",
        description="Download, verify (SHA-256) and install models into models.dir. "
        "A partial download is resumed. Offline sites copy the files in instead "
        "(`loket models list` says where) or use --mirror.",
    )
    fetch.add_argument("names", nargs="*", metavar="NAME", help="registry entries to fetch")
    fetch.add_argument(
        "--mirror",
        "--base-url",
        dest="mirror",
        metavar="URL",
        help="fetch <URL>/<name>/<file> instead of the upstream URLs (http, https or file)",
    )
    fetch.add_argument("--timeout", type=float, metavar="S", help="network timeout in seconds")
    fetch.add_argument("--force", action="store_true", help="fetch again even if present")
    fetch.add_argument(
        "--allow-unverified",
        action="store_true",
        help="accept files that have no recorded SHA-256 when their size matches",
    )
    fetch.set_defaults(func=cmd_fetch)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _settings(err: TextIO) -> Settings | None:
    try:
        return load_settings()
    except ConfigError as exc:
        print(exc, file=err)
        return None


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size else "-"


def _listed_entries(settings: Settings) -> tuple[list[ModelEntry], set[str]]:
    """Every registry entry plus ad-hoc espeak voices the config uses; and the needed names."""
    entries = list(ENTRIES)
    needed = set(needed_entries(settings))
    for lang in settings.languages.values():
        voice = lang.tts.voice if lang.tts.engine == "espeak" else lang.tts.fallback_voice
        entry = espeak_entry(voice)
        needed.add(entry.name)
        if entry not in entries:
            entries.append(entry)
    return entries, needed


def _as_dict(found: Resolution, needed: bool) -> dict[str, object]:
    entry = found.entry
    source = entry.source
    return {
        "name": entry.name,
        "role": entry.role,
        "language": entry.language,
        "engine": entry.engine,
        "present": found.present,
        "path": str(found.path) if found.path else None,
        "location": str(found.location) if found.location else None,
        "origin": found.origin,
        "size": entry.size,
        "licence": entry.licence,
        "homepage": entry.homepage,
        "source": source.describe(),
        "checksum_origin": source.checksum_origin if isinstance(source, UrlSource) else None,
        "needed": needed,
        "quality": entry.quality,
        "problem": found.problem,
        "provide": found.provide,
    }


def cmd_list(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    settings = _settings(sys.stderr)
    if settings is None:
        return EXIT_USAGE
    entries, needed = _listed_entries(settings)
    found = [resolve(entry, settings.models.dir) for entry in entries]
    readiness = voice_readiness(settings)
    if args.json:
        report = {
            "models_dir": str(settings.models.dir),
            "models": [_as_dict(f, f.entry.name in needed) for f in found],
            "languages": {
                lang: {
                    "ready": r.ready,
                    "stt_path": str(r.stt_path) if r.stt_path else None,
                    "tts_path": str(r.tts_path) if r.tts_path else None,
                    "fallback_voice": r.fallback_voice,
                    "missing": list(r.missing),
                    "missing_models": list(r.missing_models),
                }
                for lang, r in readiness.items()
            },
        }
        json.dump(report, out, indent=2)
        out.write("\n")
        return EXIT_OK

    print(f"models directory: {settings.models.dir}   (* = used by the configuration)", file=out)
    for f in found:
        e = f.entry
        status = "present" if f.present else "MISSING"
        mark = "*" if e.name in needed else " "
        print(
            f"{mark} {e.name:<25} {e.role:<3} {e.language:<3} {e.engine:<7} {status:<7} "
            f"{_mb(e.size):>9}  {e.licence}",
            file=out,
        )
        print(f"      source: {e.source.describe()}", file=out)
        if e.quality:
            print(f"      quality: {e.quality}", file=out)
        if f.present:
            print(f"      where:  {f.path} ({f.origin})", file=out)
        else:
            print(f"      where:  {f.problem}", file=out)
            print(f"      fix:    {f.provide}", file=out)
    print("voice readiness:", file=out)
    for r in readiness.values():
        if r.ready and not r.missing:
            state = "ready"
        elif r.ready:
            state = f"ready, speaking with espeak-ng {r.fallback_voice!r} for now"
        else:
            state = "NO VOICE"
        gaps = f" (missing: {', '.join(r.missing_models)})" if r.missing_models else ""
        stt = f", recognises with {r.stt_model}" if r.stt_model else ""
        print(f"  {r.language}: {state}{stt}{gaps}", file=out)
        for problem in r.missing:
            if "languages." in problem:  # a configuration mistake, not a missing file
                print(f"      {problem}", file=out)
    return EXIT_OK


class _ProgressLine:
    """Progress on stderr: a rewritten line on a terminal, a line per quarter otherwise."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.tty = err.isatty()
        self.last = 0.0
        self.name = ""
        self.quarter = -1

    def __call__(self, name: str, done: int, total: int) -> None:
        if name != self.name:
            self.name, self.quarter, self.last = name, -1, 0.0
        share = done / total if total else 0.0
        if self.tty:
            now = time.monotonic()
            if now - self.last < 0.2 and done < total:
                return
            self.last = now
            end = "\n" if done >= total else ""
            print(f"\r  {name}: {_mb(done)} of {_mb(total)} ({share:.0%})", end=end, file=self.err)
        elif int(share * 4) > self.quarter:
            self.quarter = int(share * 4)
            print(f"  {name}: {share:.0%} of {_mb(total)}", file=self.err)


def cmd_fetch(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    settings = _settings(err)
    if settings is None:
        return EXIT_USAGE
    try:
        entries = [get_entry(name) for name in args.names or needed_entries(settings)]
    except UnknownModelError as exc:
        print(f"loket models fetch: {exc}", file=err)
        return EXIT_USAGE
    if not args.names:
        names = ", ".join(e.name for e in entries)
        print(f"fetching what the configured languages need: {names}", file=out)
    mirror = args.mirror or getattr(settings.models, "mirror", None)
    timeout = args.timeout or settings.models.fetch_timeout_s
    # Without names, a language's STT preference is fetched best first until one is there.
    preferences = {} if args.names else _stt_preferences(settings)
    satisfied = {
        lang
        for lang, names in preferences.items()
        if any(resolve(get_entry(n), settings.models.dir).present for n in names if n in REGISTRY)
    }
    failures: list[tuple[str, set[str]]] = []
    for entry in entries:
        langs = {lang for lang, names in preferences.items() if entry.name in names}
        if langs and langs <= satisfied:
            found = resolve(entry, settings.models.dir)
            if found.present:
                print(f"ok    {entry.name}: present at {found.path} ({found.origin})", file=out)
            continue
        found = resolve(entry, settings.models.dir)
        fetchable = isinstance(entry.source, UrlSource | SplitPackageSource)
        if found.present and not (args.force and fetchable):
            print(f"ok    {entry.name}: present at {found.path} ({found.origin})", file=out)
            satisfied |= langs
            continue
        if isinstance(entry.source, SplitPackageSource):
            print(f"build {entry.name} from {entry.source.describe()}", file=out, flush=True)
            try:
                path = assemble_entry(entry, settings.models.dir)
            except FetchError as exc:
                print(f"FAIL  {entry.name}: {exc}", file=err)
                failures.append((entry.name, langs))
                continue
            print(f"ok    {entry.name}: reassembled at {path} (SHA-256 verified)", file=out)
            satisfied |= langs
            continue
        if not isinstance(entry.source, UrlSource):
            print(f"FAIL  {entry.name}: {found.problem}; {found.provide}", file=err)
            failures.append((entry.name, langs))
            continue
        print(f"fetch {entry.name} ({_mb(entry.size)}, {entry.licence})", file=out, flush=True)
        options = FetchOptions(
            models_dir=settings.models.dir,
            timeout_s=timeout,
            mirror=mirror,
            allow_unverified=args.allow_unverified,
            progress=_ProgressLine(err),
        )
        try:
            path = fetch_entry(entry, options)
        except FetchError as exc:
            print(f"FAIL  {entry.name}: {exc}", file=err)
            failures.append((entry.name, langs))
            continue
        print(f"ok    {entry.name}: installed at {path} (SHA-256 verified)", file=out)
        satisfied |= langs
    # A failed download does not matter once its language got another of its models.
    failed = sum(1 for _, langs in failures if not (langs and langs <= satisfied))
    if failed:
        print(f"{failed} of {len(entries)} models are still missing", file=err)
        return EXIT_MISSING
    return EXIT_OK


def _stt_preferences(settings: Settings) -> dict[str, tuple[str, ...]]:
    return {lang: conf.stt.preference for lang, conf in settings.languages.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m loket.models_cli list|fetch …``: the commands without the main CLI."""
    parser = argparse.ArgumentParser(prog="loket")
    add_models_parser(parser.add_subparsers())
    args = parser.parse_args(["models", *(sys.argv[1:] if argv is None else argv)])
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["add_models_parser", "cmd_fetch", "cmd_list", "main"]
