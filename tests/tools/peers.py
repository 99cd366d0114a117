"""Real SIP peers for tests: SIPp (Debian ``sip-tester``) and baresip (``baresip-core``).

Both bind 127.0.0.1 only; the caller of ``start_*`` must ``stop()`` them (use try/finally or
the context manager form).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

SIPP = shutil.which("sipp")
BARESIP = shutil.which("baresip")
SIPP_PCAPS = Path("/usr/share/sip-tester")
BARESIP_MODULES = Path("/usr/lib/baresip/modules")


def sipp_argv(
    port: int,
    scenario: str | Path = "uac",
    *args: str,
    source: str = "127.0.0.1",
    timeout_s: float = 30,
) -> list[str]:
    """SIPp calling 127.0.0.1:*port* once, from *source*, failing on its own timeout.

    *scenario*: a scenario file (``.xml``) or a SIPp built-in (``uac``); *args* go last
    (``-d 5000``, ``-m 3`` …: a later option wins)."""
    assert SIPP is not None, "sipp not installed (Debian package sip-tester)"
    what = ["-sf", str(scenario)] if str(scenario).endswith(".xml") else ["-sn", str(scenario)]
    local = ["-i", source, "-p", str(free_port(host=source))]
    if source != "127.0.0.1":  # media and control sockets on the same (namespace) address
        local += ["-bind_local", "-ci", source, "-cp", str(free_port())]
    return [
        SIPP, *what, f"127.0.0.1:{port}", *local, "-mp", str(free_port("udp", even=True)),
        "-m", "1", "-l", "1", "-nostdin", "-timeout", f"{int(timeout_s)}s", "-timeout_error",
        "-trace_err", *args,
    ]  # fmt: skip


async def run_sipp(
    port: int,
    workdir: Path,
    scenario: str | Path = "uac",
    *args: str,
    source: str = "127.0.0.1",
    timeout_s: float = 30,
) -> tuple[int, str]:
    """Run SIPp (see :func:`sipp_argv`) to completion; (exit code, stderr + error log)."""
    import asyncio

    workdir.mkdir(parents=True, exist_ok=True)
    proc = await asyncio.create_subprocess_exec(
        *sipp_argv(port, scenario, *args, source=source, timeout_s=timeout_s),
        cwd=workdir,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout_s + 15)
    logs = "".join(p.read_text(errors="replace") for p in workdir.glob("*_errors.log"))
    return proc.returncode or 0, err.decode(errors="replace") + logs[-3000:]


async def sipp_uac_call(port: int, workdir: Path, *, hold_ms: int = 300) -> str | None:
    """One real call from SIPp's built-in uac (INVITE, ACK, *hold_ms*, BYE) to
    127.0.0.1:*port*; None when every step followed the script, else what went wrong."""
    if SIPP is None:
        return "sipp not installed (Debian package sip-tester)"
    code, err = await run_sipp(port, workdir, "uac", "-d", str(hold_ms))
    return None if code == 0 else f"sipp exit {code}: {err[-1000:]}"


def pids_of(*fragments: str) -> list[int]:
    """Processes whose command line holds every one of *fragments* (tests find children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv]
        line = " ".join(words)
        if all(f in words or f in line for f in fragments):
            found.append(int(entry.name))
    return found


def free_port(kind: str = "both", host: str = "127.0.0.1", even: bool = False) -> int:
    """A port free on ``host`` for UDP (and TCP when kind='both') at the time of asking."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = int(u.getsockname()[1])
            if even and port % 2:
                continue
            if kind == "udp":
                return port
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((host, port))
                except OSError:
                    continue
                return port
    raise OSError("no free port found")


def port_bound(port: int, proto: str = "udp") -> bool:
    """Is something bound to ``port`` (IPv4)? Reads /proc, so it never steals the port."""
    path = Path(f"/proc/net/{proto}")
    for line in path.read_text().splitlines()[1:]:
        local = line.split()[1]
        if int(local.rsplit(":", 1)[1], 16) == port:
            return True
    return False


def bound_addresses(pid: int) -> list[tuple[str, str, int]]:
    """(proto, ip, port) of every IPv4/IPv6 UDP/TCP socket the process holds (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for proto in ("udp", "udp6", "tcp", "tcp6"):
        for line in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
            cols = line.split()
            if cols[9] not in inodes:
                continue
            hex_ip, hex_port = cols[1].rsplit(":", 1)
            raw = bytes.fromhex(hex_ip)
            if len(raw) == 4:
                ip = socket.inet_ntop(socket.AF_INET, raw[::-1])
            else:  # four little-endian 32-bit words
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                ip = socket.inet_ntop(socket.AF_INET6, words)
            found.append((proto, ip, int(hex_port, 16)))
    return found


def wait_bound(port: int, proto: str, proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not port_bound(port, proto):
        if proc.poll() is not None:
            raise RuntimeError(f"peer exited with {proc.returncode} before binding {port}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"peer did not bind {proto} port {port} in {timeout} s")
        time.sleep(0.02)


@dataclass
class Peer:
    proc: subprocess.Popen[bytes]
    workdir: Path
    port: int
    log: Path
    media_port: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return f"sip:helpline@127.0.0.1:{self.port}"

    def wait(self, timeout: float = 30.0) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(3)

    def output(self, tail: int = 4000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        for extra in sorted(self.workdir.glob("*_errors.log")):
            text += f"\n--- {extra.name}\n" + extra.read_text(errors="replace")
        return text[-tail:]

    def __enter__(self) -> Peer:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_sipp(
    workdir: Path,
    *,
    scenario: str | None = None,
    builtin: str = "uas",
    transport: str = "udp",
    rtp_echo: bool = False,
    media_port: int | None = None,
    calls: int = 1,
    keys: dict[str, str] | None = None,
    extra_args: list[str] | None = None,
) -> Peer:
    """Start SIPp as a UAS on 127.0.0.1 (built-in scenario or scenario XML text).

    ``-m calls`` makes it exit after that many calls: exit code 0 means every call followed
    the scenario (so a test learns whether our ACKs, BYEs and answers were right).
    """
    if SIPP is None:
        raise FileNotFoundError("sipp not installed (Debian package sip-tester)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    mport = media_port or free_port("udp", even=True)
    args = [SIPP, "-i", "127.0.0.1", "-p", str(port), "-mi", "127.0.0.1", "-mp", str(mport)]
    # -bind_local and -ci keep SIP and the control socket on 127.0.0.1 (the control socket
    # binds INADDR_ANY otherwise, SIPp 3.6.1 socket.cpp setup_ctrl_socket).
    args += ["-bind_local", "-ci", "127.0.0.1", "-cp", str(free_port())]
    args += ["-nostdin", "-m", str(calls), "-trace_err"]
    args += ["-t", "t1" if transport == "tcp" else "u1"]
    if scenario is not None:
        path = workdir / "scenario.xml"
        path.write_text(scenario)
        args += ["-sf", str(path)]
    else:
        args += ["-sn", builtin]
    if rtp_echo:
        args.append("-rtp_echo")
    # Scenarios put [rtpport] in their SDP: the echo port unless the test chose another.
    for key, value in {"rtpport": str(mport), **(keys or {})}.items():
        args += ["-key", key, value]
    args += extra_args or []
    log = workdir / "sipp.out"
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    peer = Peer(proc, workdir, port, log, mport)
    try:
        wait_bound(port, "tcp" if transport == "tcp" else "udp", proc)
    except RuntimeError as exc:
        peer.stop()
        raise RuntimeError(f"{exc}\n{peer.output()}") from None
    except BaseException:
        peer.stop()
        raise
    return peer


BARESIP_CONFIG = """\
poll_method\t\tepoll
sip_listen\t\t127.0.0.1:{port}
net_interface\t\t127.0.0.1
call_local_timeout\t120
call_max_calls\t\t16
audio_player\t\taubridge,nil
audio_source\t\taubridge,nil
audio_alert\t\taubridge,nil
rtp_ports\t\t{rtp_min}-{rtp_max}
jitter_buffer_delay\t1-5
module_path\t\t{modules}
module\t\t\tg711.so
module\t\t\tg722.so
module\t\t\taubridge.so
module_tmp\t\taccount.so
module_app\t\techo.so
"""


# baresip 1.0 binds its RTP/RTCP sockets to the wildcard address whatever the config says
# (src/stream.c stream_sock_alloc: "we listen on all interfaces"), and libre's DNS client
# does too. This preload library turns wildcard binds into loopback binds so the test peer
# is reachable from this machine only.
_LOOPBACK_BIND_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
    static int (*real_bind)(int, const struct sockaddr *, socklen_t);
    if (!real_bind) real_bind = (int (*)(int, const struct sockaddr *, socklen_t))
        dlsym(RTLD_NEXT, "bind");
    if (addr && addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in a;
        memcpy(&a, addr, sizeof a);
        if (a.sin_addr.s_addr == htonl(INADDR_ANY)) {
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            return real_bind(fd, (const struct sockaddr *)&a, sizeof a);
        }
    } else if (addr && addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 a;
        memcpy(&a, addr, sizeof a);
        if (IN6_IS_ADDR_UNSPECIFIED(&a.sin6_addr)) {
            a.sin6_addr = in6addr_loopback;
            return real_bind(fd, (const struct sockaddr *)&a, sizeof a);
        }
    }
    return real_bind(fd, addr, len);
}
"""


def loopback_bind_library(workdir: Path) -> Path | None:
    """Build the wildcard→loopback bind() preload library; None without a C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    src, lib = workdir / "loopback_bind.c", workdir / "libloopback_bind.so"
    src.write_text(_LOOPBACK_BIND_C)
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", str(lib), str(src), "-ldl"], check=True)
    return lib


def start_baresip(workdir: Path, *, max_seconds: int = 120) -> Peer:
    """Start baresip 1.0 headless as an echo server on 127.0.0.1.

    No sound card needed: the ``echo`` application module answers every incoming call and
    connects it to an ``aubridge`` device, so the audio received is sent back; it also
    relays received DTMF back to the caller. ``net_interface 127.0.0.1`` keeps SDP and RTP
    on loopback (without it baresip advertises the first non-loopback address).
    """
    if BARESIP is None:
        raise FileNotFoundError("baresip not installed (Debian package baresip-core)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    rtp = free_port("udp", even=True)
    (workdir / "config").write_text(
        BARESIP_CONFIG.format(port=port, rtp_min=rtp, rtp_max=rtp + 40, modules=BARESIP_MODULES)
    )
    # regint=0: no registration; no answermode: the echo module answers.
    (workdir / "accounts").write_text("<sip:helpline@127.0.0.1>;regint=0\n")
    log = workdir / "baresip.out"
    env = dict(os.environ)
    shim = loopback_bind_library(workdir)
    if shim is not None:
        env["LD_PRELOAD"] = str(shim)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [BARESIP, "-f", str(workdir), "-t", str(max_seconds), "-v"],
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    peer = Peer(proc, workdir, port, log, extra={"loopback_shim": str(shim or "")})
    try:
        wait_bound(port, "udp", proc)
        deadline = time.monotonic() + 10
        while "baresip is ready" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("baresip did not start:\n" + peer.output())
            time.sleep(0.02)
    except BaseException:
        peer.stop()
        raise
    return peer
