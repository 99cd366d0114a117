"""Calls we place (RFC 3261 §13.2, §17.1.1), sans-IO: onward transfers to another number.

Owned by :class:`SipCore`, which routes responses for our INVITE branches here.
The dialog that results is an ordinary core dialog: BYE, re-INVITE and INFO from
the far end work as for incoming calls.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiosipua import SipRequest, SipResponse

from telephony.sip import events as ev
from telephony.sip.dialog import Dialog, DialogState, contact_uri, dialog_for_outgoing, new_branch
from telephony.sip.transaction import ClientInviteTransaction, ClientTransaction, Peer, TxState

if TYPE_CHECKING:
    from telephony.sip.core import SipCore


@dataclass(slots=True)
class _Placed:
    dialog: Dialog
    request: SipRequest
    tx: ClientInviteTransaction
    cancel_pending: bool = False
    cancelled: bool = False


class OutgoingCalls:
    def __init__(self, core: SipCore) -> None:
        self.core = core
        self._by_branch: dict[str, _Placed] = {}

    def invite(
        self,
        target: str,
        peer: Peer,
        local: tuple[str, int],
        sdp: bytes,
        now: float,
        *,
        from_user: str = "helpline",
        headers: dict[str, str] | None = None,
    ) -> str:
        """Place a call to *target* (a sip: URI) sent to *peer*; returns its Call-ID."""
        call_id = f"{secrets.token_hex(12)}@loket"
        branch = new_branch()
        dialog = dialog_for_outgoing(
            call_id, target, f"<sip:{from_user}@{local[0]}>", peer, local[0], local[1], branch
        )
        transport = "TCP" if peer.transport == "tcp" else "UDP"
        req = SipRequest(method="INVITE", uri=target)
        req.headers.append(
            "Via", f"SIP/2.0/{transport} {local[0]}:{local[1]};branch={branch};rport"
        )
        req.headers.set_single("Max-Forwards", "70")
        req.headers.set_single("From", f"{dialog.local_header};tag={dialog.local_tag}")
        req.headers.set_single("To", dialog.remote_header)
        req.headers.set_single("Call-ID", call_id)
        req.headers.set_single("CSeq", f"{dialog.local_cseq} INVITE")
        req.headers.set_single("Contact", dialog.contact(peer.transport))
        req.headers.set_single("User-Agent", self.core.config.user_agent)
        for name, value in (headers or {}).items():
            req.headers.set_single(name, value)
        req.headers.set_single("Content-Type", "application/sdp")
        req.body = sdp
        data = bytes(req)
        tx = ClientInviteTransaction(branch, data, peer, call_id, now)
        self.core.dialogs[call_id] = dialog
        self._by_branch[branch] = _Placed(dialog, req, tx)
        self.core._out.append((data, peer))
        return call_id

    def cancel(self, call_id: str, now: float) -> None:
        """Give up on a call still ringing (§9.1): CANCEL once a provisional arrived."""
        placed = self._find(call_id)
        if placed is None or placed.tx.state not in (TxState.TRYING, TxState.PROCEEDING):
            return
        if placed.tx.state is TxState.TRYING:
            placed.cancel_pending = True  # §9.1: not before a provisional response
            return
        self._send_cancel(placed, now)

    def _find(self, call_id: str) -> _Placed | None:
        for placed in self._by_branch.values():
            if placed.dialog.call_id == call_id:
                return placed
        return None

    def _send_cancel(self, placed: _Placed, now: float) -> None:
        req = SipRequest(method="CANCEL", uri=placed.request.uri)
        for name in ("via", "from", "to", "call-id"):
            value = placed.request.headers.get_first(name)
            if value is not None:
                req.headers.set_single(name.title() if name != "call-id" else "Call-ID", value)
        req.headers.set_single("CSeq", f"{placed.dialog.local_cseq} CANCEL")
        req.headers.set_single("Max-Forwards", "70")
        data = bytes(req)
        ctx = ClientTransaction(
            placed.tx.branch, "CANCEL", data, placed.tx.peer, placed.dialog.call_id, now
        )
        # CANCEL shares the INVITE's branch; keep it apart in the non-INVITE table
        self.core._client_tx[placed.tx.branch + ":CANCEL"] = ctx
        self.core._watch_client(placed.tx.branch + ":CANCEL")
        self.core._out.append((data, placed.tx.peer))
        placed.cancelled = True

    # ------------------------------------------------------------------ responses

    def on_response(self, resp: SipResponse, now: float) -> bool:
        """Handle a response to one of our INVITEs; False if it is not one."""
        vias = resp.via
        branch = vias[0].branch if vias else None
        cseq = resp.cseq
        if not branch or cseq is None:
            return False
        if cseq.method.upper() == "CANCEL":
            ctx = self.core._client_tx.get(branch + ":CANCEL")
            if ctx is not None:
                ctx.on_response(resp.status_code, now)
                self.core._watch_client(branch + ":CANCEL")
            return ctx is not None
        placed = self._by_branch.get(branch)
        if placed is None or cseq.method.upper() != "INVITE":
            return False
        dialog, tx = placed.dialog, placed.tx
        status = resp.status_code
        to_tag = resp.to_addr.tag if resp.to_addr else None
        if status < 200:
            tx.on_provisional()
            if to_tag and not dialog.remote_tag:
                dialog.remote_tag = to_tag
            if status > 100:
                self.core._events.append(ev.OutgoingProgress(dialog.call_id, status))
            if placed.cancel_pending:
                placed.cancel_pending = False
                self._send_cancel(placed, now)
            return True
        if status < 300:
            if dialog.ack is not None:  # a retransmitted 2xx: our ACK got lost
                self.core._out.append((dialog.ack, dialog.peer))
                return True
            tx.on_final(status, None, now)
            dialog.remote_tag = to_tag or ""
            dialog.remote_header = resp.headers.get_first("to") or dialog.remote_header
            dialog.remote_target = (
                contact_uri(resp.headers.get_first("contact")) or dialog.remote_target
            )
            dialog.route_set = list(reversed(resp.headers.get("record-route")))
            dialog.state = DialogState.CONFIRMED
            ack, _ = dialog.build_request(
                "ACK", user_agent=self.core.config.user_agent, cseq=cseq.seq
            )
            dialog.ack = bytes(ack)
            self.core._out.append((dialog.ack, dialog.peer))
            self.core._events.append(ev.OutgoingAnswered(dialog.call_id, resp.body or None))
            if placed.cancelled:  # 200 crossed our CANCEL: the call exists, end it
                self.core.hangup(dialog.call_id, now, "cancelled")
            return True
        # a failure: ACK it on the same branch (§17.1.1.3), resend on retransmissions
        if tx.state is TxState.COMPLETED and tx.ack is not None:
            self.core._out.append((tx.ack, tx.peer))
            return True
        ack = SipRequest(method="ACK", uri=placed.request.uri)
        ack.headers.append("Via", placed.request.headers.get("via")[0])
        ack.headers.set_single("Max-Forwards", "70")
        ack.headers.set_single("From", placed.request.headers.get_first("from") or "")
        ack.headers.set_single("To", resp.headers.get_first("to") or "")
        ack.headers.set_single("Call-ID", dialog.call_id)
        ack.headers.set_single("CSeq", f"{dialog.local_cseq} ACK")
        data = bytes(ack)
        if tx.on_final(status, data, now):
            self.core._out.append((data, tx.peer))
            self.core._events.append(ev.OutgoingFailed(dialog.call_id, status, resp.reason_phrase))
            self.core._terminate(dialog, "caller", f"failed {status}")
        return True

    # ------------------------------------------------------------------ timers

    def next_timer(self) -> float | None:
        times = [t for p in self._by_branch.values() if (t := p.tx.next_deadline()) is not None]
        return min(times) if times else None

    def handle_timers(self, now: float) -> None:
        for placed in list(self._by_branch.values()):
            tx = placed.tx
            deadline = tx.next_deadline()
            if deadline is None or now < deadline:
                continue
            resend, timed_out = tx.on_timer(now)
            if resend is not None:
                self.core._out.append((resend, tx.peer))
            if timed_out:
                self.core._events.append(ev.OutgoingFailed(placed.dialog.call_id, 408, "Timeout"))
                self.core._terminate(placed.dialog, "timeout", "no answer to INVITE")

    def forget(self, call_id: str) -> None:
        for branch, placed in list(self._by_branch.items()):
            if placed.dialog.call_id == call_id:
                del self._by_branch[branch]
