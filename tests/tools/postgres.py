"""A throwaway PostgreSQL server for tests, from Debian's ``postgresql`` package.

``initdb`` into a fresh directory, ``pg_ctl start`` listening on 127.0.0.1 at a free
port with its unix socket in that directory, ``pg_ctl stop`` and the directory removed
at the end. Debian keeps the server binaries off PATH (``/usr/lib/postgresql/<n>/bin``);
the Makefile's ``apt`` target checks the same place (:data:`PG_BIN_GLOB`).

PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` user
(made by the package; else ``nobody``), in a directory under /tmp that user owns (a
pytest tmp_path lies under root's 0700 directory, which that user cannot enter).
Durability is off (``fsync=off``): a test server, never a production one.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
SUPERUSER = "loket"
DATABASE = "loket"


def pg_bin() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres (the newest version), or None.

    Debian's place first (what the Makefile checks), then PATH (other systems)."""
    found = sorted(
        (p for p in Path("/").glob(PG_BIN_GLOB.lstrip("/")) if (p / "initdb").is_file()),
        key=lambda p: _version(p.parent.name),
    )
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    return None


def _version(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in name.split("."))
    except ValueError:
        return (0,)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> str | None:
    """Whom to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists")


@dataclass
class PostgresServer:
    root: Path
    port: int
    bin: Path
    user: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def dsn(self, database: str = DATABASE) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str, timeout: float = 60.0) -> None:
        kwargs: dict[str, object] = {}
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.root,
            **kwargs,  # type: ignore[call-overload]
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{Path(argv[0]).name} failed ({done.returncode}): {done.stderr.strip()}\n{log}"
            )

    def start(self) -> None:
        """A new cluster, started, with an empty ``loket`` database."""
        self._run(
            str(self.bin / "initdb"),
            "-D", str(self.data),
            "-U", SUPERUSER,
            "-A", "trust",
            "-E", "UTF8",
            "--locale=C",
            "--no-sync",
        )  # fmt: skip
        self.resume()
        self.execute("postgres", f"CREATE DATABASE {DATABASE}")

    def resume(self) -> None:
        """Start the server on its existing cluster (after :meth:`stop`: an outage ends)."""
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D", str(self.data),
            "-l", str(self.log),
            "-o", options,
            "-w", "-t", "60",
            "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server (fast: open connections are cut, as in an outage)."""
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def execute(self, database: str, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn(database), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.encode())

    def reset(self) -> None:
        """An empty database again (the next store migrates it from nothing)."""
        self.execute(DATABASE, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A started server; stopped and its files removed on exit. RuntimeError if no binaries."""
    bin_dir = pg_bin()
    if bin_dir is None:
        raise RuntimeError(f"PostgreSQL is not installed (no initdb in {PG_BIN_GLOB})")
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="loket-pg-"))
    try:
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        server = PostgresServer(root, _free_port(), bin_dir, user)
        try:
            server.start()
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
