"""Mutation fuzzing of the sans-IO SIP core: 100,000 messages, no exception, nothing left."""

from __future__ import annotations

import pytest

from tests.tools.sip_fuzz import Addr, campaign, mutate, seeds
from tests.tools.sip_fuzz_core import fuzz_core

SEEDS = (11, 12, 13, 14)
PER_SEED = 25_000


@pytest.mark.parametrize("seed", SEEDS)
def test_core_survives_mutated_messages(seed: int) -> None:
    result = fuzz_core(seed, PER_SEED)
    assert result.messages == PER_SEED
    assert not result.crashes, [
        (c.index, c.kind, c.error, c.message[:300]) for c in result.crashes[:5]
    ]
    assert result.hangs == 0, f"slowest message took {result.slowest_ms:.0f} ms"
    assert "unparseable" not in result.answers  # every answer the core sends is valid SIP
    # the campaign reached the parser's error paths and the call paths alike
    assert result.answers["400"] > 1000 and result.answers["200"] > 100
    assert result.events["IncomingCall"] > 0 and result.events["CallEnded"] > 0
    # once every timer has run out, nothing is held for ever (bounded memory)
    assert result.left_dialogs == 0 and result.left_transactions == 0
    assert result.left_timer_entries == 0


def test_campaign_is_reproducible_from_its_seed() -> None:
    first = list(campaign(7, 300, Addr()))
    assert first == list(campaign(7, 300, Addr()))
    assert first != list(campaign(8, 300, Addr()))


def test_every_seed_message_is_answered_as_valid() -> None:
    """The unmutated seeds are well-formed: a broken seed would make the campaign test only
    the 400 path."""
    from telephony.sip.message import check_request, parse

    for kind, data in seeds(Addr()).items():
        msg = parse(data)
        if kind != "response":
            check_request(msg)  # type: ignore[arg-type]


def test_mutations_stay_within_a_datagram() -> None:
    import random

    rng = random.Random(3)
    base = seeds(Addr())["INVITE"]
    sizes = [len(mutate(rng, base)) for _ in range(2000)]
    assert max(sizes) <= 60_000 and len(set(sizes)) > 100
