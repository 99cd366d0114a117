"""``make shell``: a text chat with the real assistant through the gateway's own Rasa client.

What the caller would hear is printed; control payloads (handoff, hangup,
language) are shown the way the gateway reads them.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys

from config.settings import Settings
from dialogue.rasa_client import DialogueError, RasaClient


async def chat(settings: Settings, *, language: str) -> int:
    client = RasaClient(settings.rasa.url, settings.rasa.timeout_s)
    sender = "shell-" + secrets.token_hex(4)
    print(f"Chat with the assistant at {settings.rasa.url} (language {language}).")
    print('Type what a caller would say; /request_human, /dtmf{"digit":"5"} work too. Ctrl-D ends.')
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, _prompt)
            if line is None:
                return 0
            try:
                turn = await client.send(sender, line, language=language, channel="text")
            except DialogueError as exc:
                print(f"  !! {exc} — on the phone the caller would now be handed to an agent")
                continue
            for text in turn.texts:
                print(f"  bot: {text}")
            if turn.language:
                language = turn.language
                print(f"  [language → {language}]")
            if turn.handoff:
                h = turn.handoff
                print(f"  [handoff → queue {h.queue}, reason {h.reason!r}, priority {h.priority}]")
                if h.spoken_summary:
                    print(f"  [agent hears: {h.spoken_summary}]")
                print("  [summary] " + json.dumps(h.summary, ensure_ascii=False))
            if turn.hangup:
                print("  [hang-up]")
            print(f"  ({turn.latency_s * 1000:.0f} ms)")
    finally:
        await client.close()


def _prompt() -> str | None:
    try:
        return input("you> ")
    except EOFError:
        print(file=sys.stderr)
        return None
