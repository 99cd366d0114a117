"""SIPp as a load generator: many calls at a set rate, every answer counted.

One scenario for both kinds of run: INVITE, then either 200 (ACK, hold or play the
pcap's RTP, BYE) or 503 (ACK, done), so a call refused above ``sip.max_calls`` is
counted apart from a call that failed. SIPp's counts file gives the 503s; its exit
status and statistics give the failures.
"""

from __future__ import annotations

import asyncio
import csv
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.tools.peers import SIPP, SIPP_PCAPS, free_port

_HEAD = """\
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-{b}
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
To: helpline <sip:helpline@[remote_ip]:[remote_port]>{to}
Call-ID: [call_id]
CSeq: {cseq}
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70"""

SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="loket load">
  <send retrans="500"><![CDATA[
INVITE sip:helpline@[remote_ip]:[remote_port] SIP/2.0
{invite_head}
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="503" optional="true" next="refused"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
ACK sip:helpline@[remote_ip]:[remote_port] SIP/2.0
{ack_head}
Content-Length: 0

]]></send>
{media}
  <send retrans="500"><![CDATA[
BYE sip:helpline@[remote_ip]:[remote_port] SIP/2.0
{bye_head}
Content-Length: 0

]]></send>
  <recv response="200" next="done"/>
  <label id="refused"/>
  <send><![CDATA[
ACK sip:helpline@[remote_ip]:[remote_port] SIP/2.0
{refused_ack_head}
Content-Length: 0

]]></send>
  <label id="done"/>
</scenario>
"""

HOLD = "  <pause/>"
PCAP = (
    '  <nop><action><exec play_pcap_audio="pcap/g711a.pcap"/></action></nop>\n'
    '  <pause milliseconds="{ms}"/>'
)


def scenario(media_ms: int | None) -> str:
    """The scenario XML: hold for SIPp's -d, or play the pcap's G.711 for *media_ms*."""
    tagged = "[peer_tag_param]"
    return SCENARIO.format(
        invite_head=_HEAD.format(b="inv", to="", cseq="1 INVITE"),
        ack_head=_HEAD.format(b="ack", to=tagged, cseq="1 ACK"),
        # the ACK for a non-2xx answer is part of the INVITE's transaction (§17.1.1.3)
        refused_ack_head=_HEAD.format(b="inv", to=tagged, cseq="1 ACK"),
        bye_head=_HEAD.format(b="bye", to=tagged, cseq="2 BYE"),
        media=HOLD if media_ms is None else PCAP.format(ms=media_ms),
    )


@dataclass
class LoadResult:
    calls: int = 0
    """Calls SIPp started."""
    successful: int = 0
    failed: int = 0
    answered: int = 0
    refused_503: int = 0
    seconds: float = 0.0
    setups_per_s: float = 0.0
    """INVITEs sent per second from the first to the last (SIPp's counts, 1 s rows)."""
    peak_setups_per_s: float = 0.0
    sipp_exit: int = 0
    sipp_cpu_s: float = 0.0
    errors: str = ""
    response_ms: dict[str, float] = field(default_factory=dict)


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def _column(row: dict[str, str], suffix: str) -> int:
    """The first SIPp counts column named ``<index>_<suffix>`` (the INVITE's answer)."""
    named = sorted((int(k.split("_", 1)[0]), k) for k in row if k and k[0].isdigit())
    return next((int(row[k] or 0) for _, k in named if k.endswith(suffix)), 0)


def _setup_rates(rows: list[dict[str, str]]) -> tuple[float, float]:
    """(mean, peak over any 1 s) INVITEs sent per second while calls were being created.

    SIPp writes a counts row every 200 ms; the mean runs from the last row before the
    first INVITE to the first row with them all sent, so it errs low by up to 0.4 s."""
    sent = [
        (_hms_ms(r["ElapsedTime"]) / 1000, int(r.get("0_INVITE_Sent") or 0))
        for r in rows
        if r.get("ElapsedTime")
    ]
    if not sent or sent[-1][1] == 0:
        return 0.0, 0.0
    total = sent[-1][1]
    began = max((t for t, n in sent if n == 0), default=0.0)
    ended = next(t for t, n in sent if n >= total)
    peak = 0.0
    for i, (t1, n1) in enumerate(sent):
        later = next(((t2, n2) for t2, n2 in sent[i + 1 :] if t2 - t1 >= 0.99), None)
        if later is not None:
            peak = max(peak, (later[1] - n1) / (later[0] - t1))
    return round(total / max(ended - began, 1e-3), 1), round(peak, 1)


async def run_sipp(
    port: int,
    workdir: Path,
    *,
    calls: int,
    rate: float,
    limit: int,
    hold_ms: int = 200,
    media_ms: int | None = None,
    transport: str = "u1",
    timeout_s: float = 300,
) -> LoadResult:
    """Run *calls* calls at *rate* per second, at most *limit* at once, to 127.0.0.1:*port*."""
    if SIPP is None:
        raise FileNotFoundError("sipp not installed (Debian package sip-tester)")
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "load.xml"
    path.write_text(scenario(media_ms))
    if media_ms is not None and not (workdir / "pcap").exists():
        (workdir / "pcap").symlink_to(SIPP_PCAPS)
    cmd = [
        SIPP, "-sf", str(path), f"127.0.0.1:{port}", "-i", "127.0.0.1", "-mi", "127.0.0.1",
        "-p", str(free_port()), "-mp", str(free_port("udp", even=True)), "-t", transport,
        "-r", str(rate), "-l", str(limit), "-m", str(calls), "-d", str(hold_ms),
        "-nostdin", "-bind_local", "-ci", "127.0.0.1", "-cp", str(free_port()),
        "-timeout", f"{int(timeout_s)}s", "-timeout_error", "-recv_timeout", "32000",
        "-trace_stat", "-stf", "stat.csv", "-fd", "200ms", "-trace_counts", "-trace_err",
        "-max_recv_loops", "10000", "-max_sched_loops", "10000",
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with (workdir / "sipp.err").open("wb") as errfile:
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=workdir, stdout=asyncio.subprocess.DEVNULL, stderr=errfile
        )
        try:
            await asyncio.wait_for(proc.wait(), timeout_s + 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    seconds = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stats = _rows(workdir / "stat.csv")
    stat = stats[-1] if stats else {}
    counts = _rows(next(iter(sorted(workdir.glob("*_counts.csv"))), workdir / "none"))
    logs = "".join(p.read_text(errors="replace")[-2000:] for p in workdir.glob("*_errors.log"))
    mean_rate, peak_rate = _setup_rates(counts)
    result = LoadResult(
        calls=int(stat.get("TotalCallCreated", 0) or 0),
        successful=int(stat.get("SuccessfulCall(C)", 0) or 0),
        failed=int(stat.get("FailedCall(C)", 0) or 0),
        answered=_column(counts[-1], "200_Recv") if counts else 0,
        refused_503=_column(counts[-1], "503_Recv") if counts else 0,
        seconds=round(seconds, 2),
        setups_per_s=mean_rate,
        peak_setups_per_s=peak_rate,
        sipp_exit=proc.returncode or 0,
        sipp_cpu_s=round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
        errors=((workdir / "sipp.err").read_text(errors="replace")[-1000:] + logs)[-3000:],
    )
    for key in ("ResponseTime1(C)", "CallLength(C)"):
        if stat.get(key):
            result.response_ms[key] = _hms_ms(stat[key])
    return result


def _hms_ms(value: str) -> float:
    """SIPp writes durations as HH:MM:SS:mmm(uuu)."""
    parts = value.split(":")
    if len(parts) < 4:
        return 0.0
    h, m, s, ms = parts[:4]
    return round(((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + float(ms[:3] or 0), 1)
