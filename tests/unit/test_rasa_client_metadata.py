"""What RasaClient.send puts in the REST message's metadata (a local HTTP peer)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dialogue.rasa_client import RasaClient


async def echo_server(received: list[dict[str, Any]]) -> tuple[web.AppRunner, str]:
    async def webhook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response([{"text": "ok"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def test_recogniser_confidence_travels_in_the_metadata() -> None:
    received: list[dict[str, Any]] = []
    runner, url = await echo_server(received)
    client = RasaClient(url, timeout_s=5)
    try:
        await client.send("c1", "wanneer komt de aow", language="nl", asr_confidence=0.41234)
        await client.send("c1", "ja", language="nl")
        await client.send("c1", "x", language="en", channel="webrtc", asr_confidence=1.7)
    finally:
        await client.close()
        await runner.cleanup()
    assert received[0]["metadata"] == {"channel": "sip", "language": "nl", "asr_confidence": 0.412}
    assert "asr_confidence" not in received[1]["metadata"]
    assert received[2]["metadata"]["asr_confidence"] == 1.0  # clamped to 0..1
