"""SDP offer/answer choices."""

from __future__ import annotations

import pytest
from aiosipua import parse_sdp

from telephony.sip.sdp import SdpError, answer_offer, make_offer, plan_from_answer


def offer(formats: str, rtpmaps: str, extra: str = "", conn: str = "127.0.0.1") -> bytes:
    text = (
        "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\n"
        f"c=IN IP4 {conn}\r\nt=0 0\r\nm=audio 6000 RTP/AVP {formats}\r\n{rtpmaps}{extra}"
    )
    return text.encode()


PCMU_DTMF = "a=rtpmap:0 PCMU/8000\r\na=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\n"


def test_answer_keeps_callers_telephone_event_payload_type() -> None:
    answer, plan = answer_offer(offer("0 96", PCMU_DTMF), ["PCMU", "PCMA"], "10.0.0.1", 20000)
    sdp = parse_sdp(answer.decode())
    assert sdp.audio is not None and sdp.audio.port == 20000
    assert sdp.audio.formats == ["0", "96"]
    assert (plan.codec, plan.dtmf_pt, plan.remote, plan.sample_rate) == (
        "PCMU",
        96,
        ("127.0.0.1", 6000),
        8000,
    )
    assert plan.we_send and plan.we_receive


def test_callers_preference_order_wins_and_g722_is_wideband() -> None:
    rtpmaps = "a=rtpmap:9 G722/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    _, plan = answer_offer(offer("9 8", rtpmaps), ["PCMU", "PCMA", "G722"], "10.0.0.1", 20000)
    assert (plan.codec, plan.sample_rate, plan.dtmf_pt) == ("G722", 16000, None)
    _, plan = answer_offer(offer("9 8", rtpmaps), ["PCMU", "PCMA"], "10.0.0.1", 20000)
    assert plan.codec == "PCMA"


def test_no_common_codec_is_488() -> None:
    with pytest.raises(SdpError) as err:
        answer_offer(
            offer("18 3", "a=rtpmap:18 G729/8000\r\n"), ["PCMU", "PCMA"], "10.0.0.1", 20000
        )
    assert err.value.status == 488


def test_hold_offer_is_answered_recvonly() -> None:
    answer, plan = answer_offer(offer("0", "", "a=sendonly\r\n"), ["PCMU"], "10.0.0.1", 20000)
    assert "a=recvonly" in answer.decode()
    assert not plan.we_send and plan.we_receive
    _, plan = answer_offer(offer("0", "", conn="0.0.0.0"), ["PCMU"], "10.0.0.1", 20000)
    assert not plan.we_send


def test_offer_without_audio_is_488() -> None:
    text = (
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
        b"m=video 5000 RTP/AVP 96\r\n"
    )
    with pytest.raises(SdpError) as err:
        answer_offer(text, ["PCMU"], "10.0.0.1", 20000)
    assert err.value.status == 488


def test_late_offer_round_trip() -> None:
    ours = make_offer(["PCMU", "PCMA"], "10.0.0.1", 20000)
    assert b"m=audio 20000 RTP/AVP 0 8 101" in ours
    plan = plan_from_answer(
        offer("8 101", "a=rtpmap:101 telephone-event/8000\r\n"), ["PCMU", "PCMA"]
    )
    assert (plan.codec, plan.dtmf_pt) == ("PCMA", 101)
