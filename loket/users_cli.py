"""``loket users``: desk accounts (add, list, set, passwd, remove).

Passwords are asked twice at the terminal, or read from the first line of stdin
with ``--password-stdin`` (scripts, tests); never taken as an argument, where
they would show in ``ps`` and the shell history.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from loket.desk.accounts import Account, AccountExists, AccountStore, NoSuchAccount
from loket.desk.passwords import (
    MIN_PASSWORD,
    ROLES,
    InvalidAccountData,
    check_password,
    check_role,
    check_skills,
    check_username,
    hash_password,
)

DEFAULT_STORE = Path("var") / "desk.sqlite"


class UsageError(Exception):
    pass


def store_path(args: argparse.Namespace) -> Path:
    """``--store``, else ``desk.store_path`` from the settings, else var/desk.sqlite."""
    if args.store is not None:
        return Path(args.store)
    from config.settings import PROJECT_DIR, ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as err:
        raise UsageError(f"{err}\n(or name the accounts file with --store)") from None
    desk = getattr(settings, "desk", None)
    path = getattr(desk, "store_path", None)
    return Path(path) if path is not None else PROJECT_DIR / DEFAULT_STORE


def read_password(args: argparse.Namespace, username: str, stdin: TextIO) -> str:
    if args.password_stdin:
        line = stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password.removesuffix("\r")
        check_password(password, username)
        return password
    if not stdin.isatty():
        raise UsageError("no terminal to ask the password at: use --password-stdin")
    print(f"Password for {username} (at least {MIN_PASSWORD} characters):", file=sys.stderr)
    first = getpass.getpass("Password: ")
    check_password(first, username)
    if getpass.getpass("Again: ") != first:
        raise UsageError("the passwords differ; nothing changed")
    return first


def _skills(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else check_skills(text.split(","))


def _describe(account: Account) -> str:
    skills = ",".join(account.skills) or "-"
    return f"{account.name}\t{account.role}\tskills: {skills}"


def cmd_add(args: argparse.Namespace, store: AccountStore) -> int:
    name = check_username(args.name)
    role = check_role(args.role)
    skills = _skills(args.skills) or ()
    if store.get(name) is not None:  # before asking for a password that would be wasted
        raise AccountExists(name)
    password = read_password(args, name, sys.stdin)
    account = store.add(name, role, skills, hash_password(password), time.time())
    print(f"added {_describe(account)}")
    return 0


def cmd_list(args: argparse.Namespace, store: AccountStore) -> int:
    accounts = store.accounts()
    if args.json:
        for a in accounts:
            row = {"name": a.name, "role": a.role, "skills": list(a.skills)}
            print(json.dumps({**row, "sessions": store.session_count(a.name)}))
        return 0
    if not accounts:
        print(f"no accounts yet in {store.path}; add one with `loket users add NAME --role ...`")
    for a in accounts:
        print(f"{_describe(a)}\tsessions: {store.session_count(a.name)}")
    return 0


def cmd_set(args: argparse.Namespace, store: AccountStore) -> int:
    name = check_username(args.name)
    role = None if args.role is None else check_role(args.role)
    if role is None and args.skills is None:
        raise UsageError("nothing to change: give --role and/or --skills")
    account = store.update(name, role=role, skills=_skills(args.skills))
    print(f"changed {_describe(account)}")
    return 0


def cmd_passwd(args: argparse.Namespace, store: AccountStore) -> int:
    name = check_username(args.name)
    if store.get(name) is None:
        raise NoSuchAccount(name)
    password = read_password(args, name, sys.stdin)
    ended = store.set_password(name, hash_password(password), time.time())
    print(f"password changed for {name}; {ended} session(s) ended")
    return 0


def cmd_remove(args: argparse.Namespace, store: AccountStore) -> int:
    name = check_username(args.name)
    sessions = store.session_count(name)
    store.remove(name)
    print(f"removed {name}; {sessions} session(s) ended")
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        store = AccountStore(store_path(args))
    except UsageError as err:
        print(f"loket users: {err}", file=sys.stderr)
        return 2
    try:
        code: int = args.users_func(args, store)
        return code
    except (InvalidAccountData, UsageError) as err:
        print(f"loket users: {err}", file=sys.stderr)
        return 2
    except AccountExists as err:
        print(f"loket users: account {err} exists already (change it with `set`)", file=sys.stderr)
        return 1
    except NoSuchAccount as err:
        print(f"loket users: no account {err} (see `loket users list`)", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("\nloket users: cancelled; nothing changed", file=sys.stderr)
        return 130
    finally:
        store.close()


def add_users_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``users add|list|set|passwd|remove`` under the main ``loket`` parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--store", metavar="PATH", help="accounts file (default: desk.store_path from the settings)"
    )
    users = subparsers.add_parser(
        "users",
        help="agent desk accounts",
        description="Accounts for the agent desk: roles agent and supervisor; an agent's "
        "skills are the queues they take calls from.",
    )

    def usage(args: argparse.Namespace) -> int:
        users.print_help(sys.stderr)
        return 2

    users.set_defaults(func=usage)
    sub = users.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, func: object, help_text: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        parser.set_defaults(func=run, users_func=func)
        return parser

    add = command("add", cmd_add, "add an account (asks for its password twice)")
    add.add_argument("name", help="2-32 characters: a-z, 0-9, '.', '_', '-'")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--skills", metavar="Q1,Q2", help="queue names this agent serves")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin's first line"
    )

    listing = command("list", cmd_list, "show the accounts, their roles, skills and sessions")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")

    change = command("set", cmd_set, "change an account's role and/or skills")
    change.add_argument("name")
    change.add_argument("--role", choices=ROLES)
    change.add_argument("--skills", metavar="Q1,Q2", help="replaces the skills ('' for none)")

    passwd = command("passwd", cmd_passwd, "set a new password; ends the account's sessions")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")

    remove = command("remove", cmd_remove, "delete an account and end its sessions")
    remove.add_argument("name")


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m loket.users_cli …``: the same commands before they are wired into ``loket``."""
    parser = argparse.ArgumentParser(prog="loket")
    add_users_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    raise SystemExit(args.func(args))


if __name__ == "__main__":
    main()
