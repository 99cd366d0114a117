"""Answered dialogs kept on disk, and the BYE a restarted gateway sends for them."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from aiosipua import SipMessage, SipRequest

from telephony.sip import events as ev
from telephony.sip.core import SipCore
from telephony.sip.dialog_store import CSEQ_MARGIN, DialogStore
from telephony.sip.transaction import Peer
from tests.unit.test_sip_core import LOCAL, UDP, answered_call, request


def test_a_dialog_left_by_a_killed_process_gets_its_bye_from_the_next(tmp_path: Path) -> None:
    old = SipCore()
    call, to_tag = answered_call(old)
    dialog = old.dialogs[call.call_id]
    store = DialogStore(tmp_path / "dialogs")
    store.save(dialog)
    [path] = (tmp_path / "dialogs").glob("*.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert call.call_id not in path.name  # the file name does not carry the Call-ID

    # the process dies here; a new one starts with a new core
    new = SipCore()
    [left] = DialogStore(tmp_path / "dialogs").take_all()
    assert list((tmp_path / "dialogs").iterdir()) == []  # taken: a second restart sends none
    assert new.adopt(left) and not new.adopt(left)
    new.hangup(left.call_id, 100.0, "gateway restarted")
    [(data, peer)] = new.datagrams()
    bye = SipMessage.parse(data)
    assert isinstance(bye, SipRequest) and bye.method == "BYE"
    assert peer == UDP and bye.uri == "sip:caller@127.0.0.1:5061"
    assert bye.call_id == call.call_id
    assert bye.from_addr.tag == to_tag  # our tag, as in the 200 OK the caller has
    assert bye.to_addr.tag == "caller-tag"
    assert bye.cseq.seq > dialog.local_cseq + CSEQ_MARGIN - 1
    assert [type(e) for e in new.events()] == [ev.CallEnded]
    # the caller's 200 completes the BYE; nothing is left behind
    via = bye.headers.get_first("via") or ""
    branch = via.split("branch=")[1].split(";")[0]
    ok = (
        f"SIP/2.0 200 OK\r\nVia: {via}\r\nFrom: {bye.headers.get_first('from')}\r\n"
        f"To: {bye.headers.get_first('to')}\r\nCall-ID: {call.call_id}\r\n"
        f"CSeq: {bye.cseq.seq} BYE\r\nContent-Length: 0\r\n\r\n"
    )
    assert branch
    new.forget(left.call_id)
    new.receive(ok.encode(), UDP, 100.1, LOCAL)
    new.handle_timers(140.0)
    assert new.dialogs == {} and new.datagrams() == []


def test_ended_calls_and_junk_leave_nothing(tmp_path: Path) -> None:
    core = SipCore()
    call, _ = answered_call(core)
    store = DialogStore(tmp_path)
    store.save(core.dialogs[call.call_id])
    store.remove(call.call_id)
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / "old.json").write_text(json.dumps({"format": 99}))
    (tmp_path / "half.tmp").write_text("{")
    assert store.take_all() == []
    assert list(tmp_path.iterdir()) == []


def test_tcp_dialogs_are_not_kept(tmp_path: Path) -> None:
    core = SipCore()
    tcp = Peer("tcp", "127.0.0.1", 40000, conn=1)
    core.receive(request("INVITE", transport="TCP", body=b"v=0\r\n"), tcp, 0.0, LOCAL)
    [incoming] = core.events()
    assert isinstance(incoming, ev.IncomingCall)
    DialogStore(tmp_path).save(core.dialogs[incoming.call_id])
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


def test_a_full_disk_is_counted_not_raised(tmp_path: Path) -> None:
    core = SipCore()
    call, _ = answered_call(core)
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = DialogStore(blocker / "dialogs")  # a directory under a file: cannot exist
    store.save(core.dialogs[call.call_id])
    assert store.failures == 1
