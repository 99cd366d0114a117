"""What keeping strangers out costs per SIP request (telephony/sip/admission.py in the core).

Run: ``.venv/bin/python -m bench.sip_admission`` (seconds). Times, best of ``--repeat``
rounds of ``--requests`` parsed OPTIONS each: the core's admission hook for a trusted
source, for an untrusted one over its limit (a flood packet, dropped), a stranger's 401
(a nonce and two challenges), one SHA-256 digest check, and the whole of ``receive`` —
parsing and answering — with and without the hook. Writes
``bench/results/sip_admission.json``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from bench.common import write_result
from config.settings import load_settings
from loket.sip_security import build_admission
from telephony.sip import digest
from telephony.sip.admission import Incoming
from telephony.sip.core import SipCore
from telephony.sip.message import check_request, parse
from telephony.sip.transaction import Peer

LOCAL = ("127.0.0.1", 5060)
TRUSTED = Peer("udp", "127.0.0.1", 5061)
STRANGER = Peer("udp", "198.51.100.7", 5061)


def options(i: int) -> bytes:
    return (
        f"OPTIONS sip:helpline@127.0.0.1:5060 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-{i}\r\nMax-Forwards: 70\r\n"
        "From: <sip:a@127.0.0.1>;tag=a\r\nTo: <sip:helpline@127.0.0.1>\r\n"
        f"Call-ID: bench-{i}\r\nCSeq: 1 OPTIONS\r\nUser-Agent: Linphone/5.2\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def best_us(run: Callable[[], int], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        n = run()
        best = min(best, (time.perf_counter() - started) / n * 1e6)
    return round(best, 2)


def measure(requests: int, repeat: int) -> dict[str, Any]:
    env = {"LOKET_SIP__SECURITY__USERS": "[{username: trunk, password: s3cret}]"}
    sec = load_settings(env).sip.security
    raw = [options(i) for i in range(requests)]
    parsed = [check_request(parse(m)) for m in raw]  # type: ignore[arg-type]

    def hook(peer: Peer) -> Callable[[], int]:
        def run() -> int:
            core = SipCore(admission=build_admission(sec, "127.0.0.1"))
            for req in parsed:
                core._admitted(req, peer, 0.0)
            core.datagrams()
            return len(parsed)

        return run

    def receive(with_admission: bool) -> Callable[[], int]:
        def run() -> int:
            adm = build_admission(sec, "127.0.0.1") if with_admission else None
            core = SipCore(admission=adm)
            for i, data in enumerate(raw):
                core.receive(data, TRUSTED, i * 1e-4, LOCAL)
                core.datagrams()
            return len(raw)

        return run

    def challenge() -> int:
        adm = build_admission(sec.model_copy(update={"invites": None, "requests": None}), "")
        for i in range(requests):
            adm.check(Incoming(STRANGER.host, "udp", "INVITE"), i * 1e-3)
        return requests

    auth = build_admission(sec, "").digest
    assert auth is not None
    params = digest.parse_params(auth.challenges(0.0)[0])
    assert params is not None
    nonce = params["nonce"]
    ha1 = digest.ha1("SHA-256", "trunk", "loket", "s3cret")

    def verify() -> int:
        for i in range(requests):
            nc = f"{i + 1:08x}"
            resp = digest.response("SHA-256", ha1, nonce, nc, "c", "INVITE", "sip:x")
            header = (
                f'Digest username="trunk", realm="loket", nonce="{nonce}", '
                f'uri="sip:x", response="{resp}", algorithm=SHA-256, qop=auth, nc={nc}, cnonce="c"'
            )
            assert auth.verify([header], "INVITE", 1.0).ok
        return requests

    return {
        "requests": requests,
        "repeat": repeat,
        "hook_trusted_us": best_us(hook(TRUSTED), repeat),
        "hook_flood_dropped_us": best_us(hook(STRANGER), repeat),
        "stranger_401_us": best_us(challenge, repeat),
        "digest_verify_sha256_us": best_us(verify, 1),
        "receive_options_without_admission_us": best_us(receive(False), repeat),
        "receive_options_with_admission_us": best_us(receive(True), repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    result = measure(args.requests, args.repeat)
    print(write_result("sip_admission", result))
    print({k: v for k, v in result.items() if k.endswith("_us")})


if __name__ == "__main__":
    main()
