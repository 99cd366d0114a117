"""Download registry entries: streamed, SHA-256 verified, resumable, unpacked safely.

Each file streams into ``<models.dir>/.downloads/<entry>--<file>.part``; a partial file
left by an interrupted run is resumed with an HTTP Range request and the whole file is
verified afterwards. Only verified files are moved into ``<models.dir>/<entry>/`` (one
atomic rename each; an archive is unpacked beside the target and the directory renamed
into place), so a model directory is either complete or absent.

Sync (urllib): this runs from ``loket models fetch`` and ``make run``, never on the
gateway's event loop. A mirror (``--mirror``; http, https or file URL) serves
``<mirror>/<entry name>/<file name>``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import json
import os
import shutil
import stat
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import urlsplit

from voice.model_registry import (
    PROVENANCE_FILE,
    ModelEntry,
    RemoteFile,
    UrlSource,
    model_dir,
    resolve,
)

CHUNK = 1 << 16
STAGING = ".downloads"
MAX_UNPACKED = 8 << 30
"""Refuse archives that claim to unpack to more than this (a zip bomb or a wrong file)."""
USER_AGENT = "Loket-models/0.1 (python-urllib)"

Progress = Callable[[str, int, int], None]
"""Called as (file name, bytes so far, expected total) while downloading."""


class FetchError(Exception):
    """A download or install failed; ``str()`` says what, for which URL, and what to do."""


class HttpStatusError(FetchError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class NetworkError(FetchError):
    """The server could not be reached, or the connection stalled or broke."""


class IncompleteDownload(FetchError):
    """Fewer bytes than expected arrived; the partial file is kept for resuming."""


class ChecksumMismatch(FetchError):
    """The downloaded bytes do not hash to the recorded SHA-256; the file was deleted."""


class UnsafeArchive(FetchError):
    """An archive member would land outside the target, is a link or device, or is huge."""


class NoChecksum(FetchError):
    """The entry has no verified SHA-256 and the caller did not accept size-only checks."""


class NotDownloadable(FetchError):
    """The entry comes from a package or the system, not from a URL."""


def source_url(entry: ModelEntry, remote: RemoteFile, mirror: str | None) -> str:
    if not mirror:
        return remote.url
    return f"{mirror.rstrip('/')}/{entry.name}/{remote.filename}"


def _offline_hint(entry: ModelEntry, models_dir: Path) -> str:
    target = model_dir(entry, models_dir)
    return (
        f"offline sites: copy the files to {target}/ by hand (`loket models list` says "
        "which), or point --mirror at a local copy (http:// or file://)"
    )


class _Response(Protocol):
    """What urlopen returns for http(s) (HTTPResponse) and file:// (addinfourl) URLs."""

    status: int | None
    headers: Message

    def read(self, amt: int) -> bytes: ...

    def close(self) -> None: ...


def _sha256_of(path: Path) -> hashlib._Hash:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest


def _open(url: str, start: int, timeout_s: float, hint: str) -> _Response:
    request = urllib.request.Request(
        url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    )
    if start:
        request.add_header("Range", f"bytes={start}-")
    try:
        response: _Response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise HttpStatusError(
            f"{url}: the server answered HTTP {exc.code} {exc.reason}", exc.code
        ) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise NetworkError(f"{url}: no answer within {timeout_s:g} s; {hint}") from None
        parts = urlsplit(url)
        if parts.scheme == "file":
            raise NetworkError(f"{url}: {exc.reason}; {hint}") from None
        raise NetworkError(f"cannot reach {parts.netloc} for {url}: {exc.reason}; {hint}") from None
    except TimeoutError:
        raise NetworkError(f"{url}: no answer within {timeout_s:g} s; {hint}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise NetworkError(f"{url}: {exc!r}; {hint}") from None
    return response


def _body_offset(response: _Response, start: int) -> int | None:
    """Where the body starts in the file: *start* for a matching 206, 0 for a whole file,
    ``None`` for a partial answer we cannot use."""
    if response.status != 206:
        return 0
    # Content-Range: bytes 100-199/200
    try:
        first = int(response.headers.get("Content-Range", "").split()[1].split("-", 1)[0])
    except (IndexError, ValueError):
        return None
    return first if first == start else None


def download(
    url: str,
    part: Path,
    *,
    size: int,
    sha256: str | None,
    timeout_s: float,
    progress: Progress | None = None,
    hint: str = "",
) -> None:
    """Stream *url* into *part* (resuming a partial *part*), then verify size and SHA-256.

    On return *part* holds the verified file. A wrong checksum or an oversize file deletes
    *part*; a short transfer keeps it so the next call resumes with an HTTP Range request.
    """
    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have = 0
    digest = _sha256_of(part) if have else hashlib.sha256()

    if have < size:
        try:
            response = _open(url, have, timeout_s, hint)
        except HttpStatusError as exc:
            if exc.status == 416 and have:  # the server holds no more than our partial file
                part.unlink()
                raise IncompleteDownload(
                    f"{url}: the server's file is only {have} bytes, the registry expects "
                    f"{size}; the partial file was removed"
                ) from None
            raise
        try:
            offset = _body_offset(response, have)
            if offset is None:
                part.unlink()
                raise IncompleteDownload(
                    f"{url}: the server answered the resume request with an unusable "
                    "Content-Range; the partial file was removed, run the fetch again"
                )
            if offset != have:  # a 200 with the whole file: start over
                have, digest = 0, hashlib.sha256()
            have = _stream(response, part, have, digest, size, url, hint, progress)
        finally:
            response.close()

    if have > size:
        part.unlink()
        raise IncompleteDownload(f"{url}: got {have} bytes, over the {size} recorded; deleted")
    if have < size:
        raise IncompleteDownload(
            f"{url}: the transfer ended after {have} of {size} bytes (truncated); the partial "
            "file is kept and the next `loket models fetch` resumes it"
        )
    got = digest.hexdigest()
    if sha256 is not None and got != sha256.lower():
        part.unlink()
        raise ChecksumMismatch(
            f"{url}: SHA-256 mismatch: expected {sha256}, got {got}; the file was deleted. "
            "Causes: a mirror or proxy serving another file, or an upstream change (then "
            "update the entry in voice/model_registry.py after checking the new file)"
        )


def _stream(
    response: _Response,
    part: Path,
    have: int,
    digest: hashlib._Hash,
    total: int,
    url: str,
    hint: str,
    progress: Progress | None,
) -> int:
    name = part.name.removesuffix(".part")
    with part.open("ab" if have else "wb") as out:
        while True:
            try:
                chunk = response.read(CHUNK)
            except TimeoutError:
                raise NetworkError(
                    f"{url}: the transfer stalled after {have} bytes; the partial file is "
                    f"kept and the next fetch resumes it; {hint}"
                ) from None
            except (OSError, http.client.HTTPException) as exc:
                raise NetworkError(
                    f"{url}: the connection broke after {have} bytes ({exc!r}); the partial "
                    "file is kept and the next fetch resumes it"
                ) from None
            if not chunk:
                return have
            out.write(chunk)
            digest.update(chunk)
            have += len(chunk)
            if have > total:  # the server sends more than the file can be: stop early
                return have
            if progress is not None:
                progress(name, have, total)


def _check_member(name: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise UnsafeArchive(f"archive member {name!r} would be written outside the target")


def safe_unpack(archive: Path, kind: str, dest: Path) -> None:
    """Unpack *archive* into *dest*, refusing traversal, links, devices and bombs."""
    total = 0
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    _check_member(info.filename)
                    if stat.S_ISLNK(info.external_attr >> 16):
                        raise UnsafeArchive(f"archive member {info.filename!r} is a symlink")
                    total += info.file_size
                    if total > MAX_UNPACKED:
                        raise UnsafeArchive(f"{archive.name} unpacks to over {MAX_UNPACKED} B")
                zf.extractall(dest)
        elif kind == "tar.gz":
            with tarfile.open(archive, "r:gz") as tf:
                members = tf.getmembers()
                for member in members:
                    _check_member(member.name)
                    if not (member.isfile() or member.isdir()):
                        raise UnsafeArchive(
                            f"archive member {member.name!r} is a link or special file"
                        )
                    total += member.size
                    if total > MAX_UNPACKED:
                        raise UnsafeArchive(f"{archive.name} unpacks to over {MAX_UNPACKED} B")
                tf.extractall(dest, members=members, filter="data")
        else:
            raise FetchError(f"unknown archive kind {kind!r}")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise FetchError(f"{archive.name} is not a readable {kind} archive: {exc}") from None


def _single_root(unpacked: Path) -> Path:
    """Archives usually hold one top folder (``vosk-model-small-nl-0.22/``): strip it."""
    children = list(unpacked.iterdir())
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return unpacked


def replace_dir(new: Path, target: Path, staging: Path) -> None:
    old: Path | None = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f"{target.name}.old.", dir=staging))
        os.replace(target, old / target.name)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_provenance(directory: Path, entry: ModelEntry, urls: list[str]) -> None:
    assert isinstance(entry.source, UrlSource)
    record = {
        "name": entry.name,
        "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": [
            {"url": url, "size": f.size, "sha256": f.sha256, "verified": f.sha256 is not None}
            for url, f in zip(urls, entry.source.files, strict=True)
        ],
        "licence": entry.licence,
    }
    (directory / PROVENANCE_FILE).write_text(json.dumps(record, indent=2) + "\n", "utf-8")


@dataclass(frozen=True, slots=True)
class FetchOptions:
    models_dir: Path
    timeout_s: float = 60.0
    mirror: str | None = None
    allow_unverified: bool = False
    """Accept files without a recorded SHA-256 when their size matches (explicit opt-in)."""
    progress: Progress | None = None


@contextlib.contextmanager
def exclusive(staging: Path, name: str) -> Iterator[None]:
    """One fetch at a time per models directory (``make run`` and a person may both start
    one); the lock is on the staging folder itself, so nothing is left behind."""
    fd = os.open(staging, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FetchError(
                f"{name}: another `loket models fetch` is running on {staging.parent}; "
                "wait for it to finish"
            ) from None
        yield
    finally:
        os.close(fd)


def _download_and_install(
    entry: ModelEntry, source: UrlSource, options: FetchOptions, staging: Path
) -> None:
    models_dir = options.models_dir
    hint = _offline_hint(entry, models_dir)
    urls = [source_url(entry, f, options.mirror) for f in source.files]
    parts: list[Path] = []
    for url, remote in zip(urls, source.files, strict=True):
        part = staging / f"{entry.name}--{remote.filename}.part"
        download(
            url,
            part,
            size=remote.size,
            sha256=remote.sha256,
            timeout_s=options.timeout_s,
            progress=options.progress,
            hint=hint,
        )
        parts.append(part)

    target = model_dir(entry, models_dir)
    if not source.archive:
        target.mkdir(parents=True, exist_ok=True)
        for part, remote in zip(parts, source.files, strict=True):
            os.replace(part, target / remote.filename)
        _write_provenance(target, entry, urls)
        return
    unpacked = Path(tempfile.mkdtemp(prefix=f"{entry.name}.", suffix=".unpack", dir=staging))
    try:
        safe_unpack(parts[0], source.archive, unpacked)
        root = _single_root(unpacked)
        missing = [rel for rel in entry.required if not (root / rel).is_file()]
        if missing:
            raise FetchError(f"{urls[0]}: the archive lacks {', '.join(missing)}; not installed")
        _write_provenance(root, entry, urls)
        root.chmod(0o755)
        replace_dir(root, target, staging)
    finally:
        # verified bytes that failed to unpack will not do better next time
        shutil.rmtree(unpacked, ignore_errors=True)
        parts[0].unlink(missing_ok=True)


def fetch_entry(entry: ModelEntry, options: FetchOptions) -> Path:
    """Download, verify and install *entry*; returns what the engine loads."""
    source = entry.source
    if not isinstance(source, UrlSource):
        found = resolve(entry, options.models_dir)
        raise NotDownloadable(
            f"{entry.name} is not downloaded by Loket: {source.describe()}; "
            + (found.provide or "it is already present")
        )
    unverified = [f.url for f in source.files if f.sha256 is None]
    if unverified and not options.allow_unverified:
        raise NoChecksum(
            f"{entry.name}: no verified SHA-256 is recorded for {', '.join(unverified)}. "
            "Add the value to voice/model_registry.py (from the publisher, or `sha256sum` of "
            "a copy you trust), or pass --allow-unverified to accept a download whose size "
            "matches"
        )
    models_dir = options.models_dir
    staging = models_dir / STAGING
    try:
        staging.mkdir(parents=True, exist_ok=True)
        with exclusive(staging, entry.name):
            _download_and_install(entry, source, options, staging)
    except OSError as exc:  # disk full, permissions: say where
        raise FetchError(f"{entry.name}: cannot write under {models_dir}: {exc}") from None
    found = resolve(entry, models_dir)
    if found.path is None:
        raise FetchError(f"{entry.name}: installed but still not usable: {found.problem}")
    return found.path
