"""A small SIPp load in CI: 200 calls, 50 set-ups a second, 20 at once — none may fail.

The benchmark (``bench/sip_load.py``) runs the large version; this one keeps the
signalling path honest under concurrency on every change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gateway_fixture import gateway_env, running_gateway
from tests.tools.peers import SIPP
from tests.tools.sipp_load import run_sipp

pytestmark = [pytest.mark.interop, pytest.mark.skipif(SIPP is None, reason="sipp not installed")]


async def test_two_hundred_calls_at_fifty_per_second_none_fails(tmp_path: Path) -> None:
    async with running_gateway(gateway_env(tmp_path, sip__max_calls="40")) as gw:
        result = await run_sipp(
            gw.sip_port, tmp_path / "sipp", calls=200, rate=50, limit=20, hold_ms=300
        )
        assert result.calls == 200, result.errors
        assert result.failed == 0 and result.sipp_exit == 0, result.errors
        assert result.refused_503 == 0  # 20 at once is below max_calls
        assert result.answered == 200


async def test_over_max_calls_the_only_refusal_is_503(tmp_path: Path) -> None:
    async with running_gateway(gateway_env(tmp_path, sip__max_calls="5")) as gw:
        result = await run_sipp(
            gw.sip_port, tmp_path / "sipp", calls=100, rate=50, limit=20, hold_ms=500
        )
    assert result.failed == 0, result.errors  # a 503 is a refused call, not a failed one
    assert result.refused_503 > 0 and result.answered > 0
    assert result.answered + result.refused_503 == 100
