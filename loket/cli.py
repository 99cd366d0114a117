"""``loket``: run the gateway, check config, manage models, read records, chat with the bot."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from config.settings import ConfigError, Settings, config_files, load_settings


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as err:
        print(f"loket: {err}", file=sys.stderr)
        print("Run `loket config check` after fixing it.", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_config_check(args: argparse.Namespace) -> int:
    files = ", ".join(str(p) for p in config_files(os.environ))
    try:
        settings = load_settings()
    except ConfigError as err:
        print(f"Configuration read from: {files}\n{err}", file=sys.stderr)
        return 2
    from voice.model_registry import registry_errors, voice_readiness

    errors = registry_errors(settings)
    if errors:
        problems = "\n".join(f"  {e}" for e in errors)
        print(
            f"Configuration read from: {files}\nconfiguration errors:\n{problems}", file=sys.stderr
        )
        return 2
    print(f"Configuration OK (read from: {files})")
    sip = settings.sip
    print(f"  SIP      sip:{sip.user}@<host>:{sip.port} over {', '.join(sip.transports)}")
    rtp = settings.rtp
    print(f"  RTP      ports {rtp.port_min}-{rtp.port_max}, codecs {', '.join(rtp.codecs)}")
    print(f"  HTTP     http://{settings.http.host}:{settings.http.port}/healthz")
    print(f"  Rasa     {settings.rasa.url} (actions on port {settings.rasa.actions_port})")
    print(f"  Records  {settings.records.path}")
    from loket.queue_backend import describe

    print(f"  Queue    {describe(settings)}")
    for readiness in voice_readiness(settings).values():
        print(f"  Voice    {readiness.summary()}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from loket import logs
    from loket.app import serve

    settings = _settings_or_exit()
    logs.setup(args.log_level)
    profile = args.profile or os.environ.get("LOKET_PROFILE")
    if not profile:
        asyncio.run(serve(settings))
        return 0
    from pyinstrument import Profiler  # benchmarks only: where the event loop's time goes

    profiler = Profiler(interval=0.002)
    profiler.start()
    try:
        asyncio.run(serve(settings))
    finally:
        profiler.stop()
        Path(profile).write_text(profiler.output_text(unicode=True, show_all=False))
    return 0


def cmd_shell(args: argparse.Namespace) -> int:
    from loket.shell import chat

    settings = _settings_or_exit()
    return asyncio.run(chat(settings, language=args.language))


def build_parser() -> argparse.ArgumentParser:
    from loket.models_cli import add_models_parser
    from loket.records_cli import add_records_parser
    from loket.users_cli import add_users_parser

    parser = argparse.ArgumentParser(prog="loket", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway (SIP, voice, HTTP)")
    serve.add_argument("--log-level", default=os.environ.get("LOKET_LOG_LEVEL", "INFO"))
    serve.add_argument(
        "--profile", help="write a pyinstrument profile here at exit (LOKET_PROFILE)"
    )
    serve.set_defaults(func=cmd_serve)

    config = sub.add_parser("config", help="configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate config files and LOKET_* variables")
    check.set_defaults(func=cmd_config_check)

    add_models_parser(sub)
    add_users_parser(sub)

    add_records_parser(sub)

    shell = sub.add_parser(
        "shell", help="text chat with the assistant through the gateway's client"
    )
    shell.add_argument("--language", choices=["nl", "en"], default="nl")
    shell.set_defaults(func=cmd_shell)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except BrokenPipeError:  # `loket models list | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    raise SystemExit(code)


if __name__ == "__main__":
    main()
