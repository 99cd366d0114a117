"""Client transactions for the test caller: retransmission and response collection on top
of aiosipua's UAC, which sends each request once."""

from __future__ import annotations

import asyncio
from typing import Protocol

from aiosipua import SipRequest, SipResponse, SipTransport

from .sip_messages import T1, TIMEOUT, next_gap


class TransactionUser(Protocol):
    """What a client transaction needs from the call that owns it."""

    @property
    def transport(self) -> SipTransport: ...

    def send(self, msg: SipRequest | SipResponse, addr: tuple[str, int] | None = None) -> None: ...

    def on_local_timeout(self, txn: ClientTransaction) -> None: ...


class ClientTransaction:
    """Retransmits a request the UAC sent once and collects its responses.

    Workaround: aiosipua 0.7.1's UAC sends each request once (uac.py:118, :410) and, after
    send_bye/send_cancel, forgets the call so the response is dropped (uac.py:194,
    uac_responses.py:43). Here: Timer A/E from T1 doubling over UDP, Timer B/F after 64·T1.
    """

    def __init__(self, caller: TransactionUser, request: SipRequest) -> None:
        self.request = request
        self.method = request.method
        self.invite = request.method == "INVITE"
        self.final: asyncio.Future[SipResponse] = asyncio.get_running_loop().create_future()
        self.provisional = False
        self.sent = 1
        self._caller = caller
        self._task = asyncio.create_task(self._run())

    def on_response(self, resp: SipResponse) -> None:
        if resp.status_code < 200:
            self.provisional = True
        elif not self.final.done():
            self.final.set_result(resp)

    def stop(self) -> None:
        self._task.cancel()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        reliable = self._caller.transport.reliable
        gap: float | None = TIMEOUT if reliable else T1
        while gap is not None:
            await asyncio.sleep(max(0.0, min(gap, start + TIMEOUT - loop.time())))
            if self.final.done() or (self.invite and self.provisional):
                return
            if loop.time() - start >= TIMEOUT - 1e-3:
                timeout = SipResponse(status_code=408, reason_phrase="Request Timeout (local)")
                self.final.set_result(timeout)
                self._caller.on_local_timeout(self)
                return
            self._caller.send(self.request)
            self.sent += 1
            gap = next_gap(self.invite, gap, self.provisional)
