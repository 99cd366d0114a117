"""SIPp UAS scenarios for calling with the test caller (SIPp 3.6.1, Debian sip-tester).

Each scenario ends the way a call should end, so SIPp's exit code (0: every call passed)
tells whether the caller's side was right. ``answer_scenario`` and friends put ``[pt]``,
``[codec]`` and ``[rtpport]`` in their SDP: pass them with ``-key`` (``peers.start_sipp``
fills ``rtpport`` with SIPp's echo port; ``codec_keys`` builds the rest). Response codes
cannot be ``-key`` values: SIPp checks them when it loads the scenario.
"""

from __future__ import annotations

_HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="{name}">
"""

_RESPONSE_HEADERS = """
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>"""

_RINGING = f"""
  <send><![CDATA[

      SIP/2.0 180 Ringing{_RESPONSE_HEADERS}
      Content-Length: 0

  ]]></send>
"""

# Answer with the codec given by -key pt/-key codec, plus telephone-event 101.
_OK_SDP = f"""
  <send retrans="500"><![CDATA[

      SIP/2.0 200 OK{_RESPONSE_HEADERS}
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [rtpport] RTP/AVP [pt] 101
      a=rtpmap:[pt] [codec]/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
      a=ptime:20

  ]]></send>
  <recv request="ACK" crlf="true"/>
"""

_BYE_FROM_CALLER = """
  <recv request="BYE"/>
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>
  <timewait milliseconds="500"/>
</scenario>
"""


def answer_scenario(middle: str = "") -> str:
    """INVITE → 180 → 200 (codec from -key) → ACK → ``middle`` → BYE from the caller."""
    return (
        _HEAD.format(name="answer")
        + """
  <recv request="INVITE" crlf="true"/>"""
        + _RINGING
        + _OK_SDP
        + middle
        + _BYE_FROM_CALLER
    )


def reject_scenario(code: int, reason: str) -> str:
    """INVITE → 100 → final ``code`` → ACK. The code is written in: SIPp checks it when it
    loads the scenario, before any -key substitution."""
    return _HEAD.format(name="reject") + _REJECT.format(code=code, reason=reason)


_REJECT = """
  <recv request="INVITE"/>
  <send><![CDATA[

      SIP/2.0 100 Trying
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>
  <send retrans="500"><![CDATA[

      SIP/2.0 {code} {reason}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>
  <recv request="ACK"/>
  <timewait milliseconds="300"/>
</scenario>
"""

CANCEL = (
    _HEAD.format(name="cancel")
    + """
  <recv request="INVITE"/>"""
    + _RINGING
    + """
  <recv request="CANCEL"/>
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>
  <send retrans="500"><![CDATA[

      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [last_cseq_number] INVITE
      Content-Length: 0

  ]]></send>
  <recv request="ACK"/>
  <timewait milliseconds="300"/>
</scenario>
"""
)


def _far_end_request(method: str, cseq: int, extra: str = "", body: str = "") -> str:
    length = "[len]" if body else "0"
    return f"""
  <send retrans="500"><![CDATA[

      {method} [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:helpline@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
      To:[$callerfrom]
      Call-ID: [call_id]
      CSeq: {cseq} {method}
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70{extra}
      Content-Length: {length}
{body}
  ]]></send>
"""


def _hold_sdp(direction: str, version: int) -> str:
    return f"""
      v=0
      o=sipp 53655765 {version} IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [rtpport] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a={direction}
"""


def _ack(cseq: int) -> str:
    return f"""
  <send><![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:helpline@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
      To:[$callerfrom]
      Call-ID: [call_id]
      CSeq: {cseq} ACK
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
"""


def _expect_200(check: str = "") -> str:
    action = (
        f'<action><ereg regexp="{check}" search_in="msg" check_it="true" assign_to="m"/></action>'
        if check
        else ""
    )
    return f"""
  <recv response="100" optional="true"/>
  <recv response="200">{action}</recv>
"""


# The far end asks OPTIONS, puts us on hold (re-INVITE sendonly: we must answer recvonly),
# resumes, then hangs up; SIPp fails the call if any answer is missing or wrong.
FAR_END_REQUESTS = (
    _HEAD.format(name="far end requests")
    + """
  <recv request="INVITE" crlf="true" rrs="true">
    <action><ereg regexp=".*" search_in="hdr" header="From:" assign_to="callerfrom"/></action>
  </recv>"""
    + _OK_SDP
    + """  <pause milliseconds="200"/>"""
    + _far_end_request("OPTIONS", 1)
    + _expect_200("Allow:.*INVITE")
    + _far_end_request(
        "INVITE", 2, "\n      Content-Type: application/sdp", _hold_sdp("sendonly", 2)
    )
    + _expect_200("a=recvonly")
    + _ack(2)
    + """  <pause milliseconds="300"/>"""
    + _far_end_request(
        "INVITE", 3, "\n      Content-Type: application/sdp", _hold_sdp("sendrecv", 3)
    )
    + _expect_200("a=sendrecv")
    + _ack(3)
    + """  <pause milliseconds="300"/>"""
    + _far_end_request("BYE", 4)
    + _expect_200()
    + """  <timewait milliseconds="300"/>
</scenario>
"""
)


def codec_keys(pt: int = 0, codec: str = "PCMU", **more: str) -> dict[str, str]:
    return {"pt": str(pt), "codec": codec, **more}


# The far end answers although our CANCEL arrived first (a 200 crossing the CANCEL).
CANCEL_TOO_LATE = (
    _HEAD.format(name="cancel too late")
    + """
  <recv request="INVITE"/>"""
    + _RINGING
    + """
  <recv request="CANCEL"/>
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>
  <send retrans="500"><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [last_cseq_number] INVITE
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [rtpport] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

  ]]></send>
  <recv request="ACK"/>"""
    + _BYE_FROM_CALLER
)
