"""Password hashing (stdlib scrypt) and the rules for usernames, passwords and skills.

Hashes are PHC-style strings, ``$scrypt$ln=14,r=8,p=1$<salt>$<key>`` (unpadded
base64), so the cost travels with each hash: raising :data:`DEFAULT_COST` later
upgrades every account at its next login (:func:`needs_rehash`) without a migration.

scrypt at N=2**14, r=8, p=1 uses 16 MiB and 50 ms (idle) to 90 ms (busy) of one
core on the 2-core reference machine (see docs/desk-auth.md): slow enough to make
an offline guess expensive, quick enough that a shift of agents logging in at once
is no burden. Hashing blocks (releasing the GIL), so the event loop runs it in a thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Role = Literal["agent", "supervisor"]
ROLES: tuple[Role, ...] = ("agent", "supervisor")

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
"""Long enough for any passphrase; bounds the work an attacker can ask of us."""

_USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,31}")
_SKILL = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_SALT_BYTES = 16
_KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class ScryptCost:
    log2_n: int = 14
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        # bounds also protect against a tampered hash asking for gigabytes
        if not (10 <= self.log2_n <= 20 and 1 <= self.r <= 32 and 1 <= self.p <= 16):
            raise ValueError(f"scrypt cost out of range: {self}")

    @property
    def maxmem(self) -> int:
        # 128·r·N for V plus 128·r·p for B, with room for OpenSSL's own bookkeeping
        return 128 * self.r * ((1 << self.log2_n) + self.p + 2) + (1 << 20)


DEFAULT_COST = ScryptCost()


class InvalidAccountData(ValueError):
    """A username, password, role or skill that breaks the rules; the message says which."""


def normalize_username(name: str) -> str:
    """Usernames are case-insensitive: ``Anna`` logs in as ``anna``."""
    return unicodedata.normalize("NFKC", name).strip().lower()


def check_username(name: str) -> str:
    """The normalized name, or :class:`InvalidAccountData` saying what is allowed."""
    norm = normalize_username(name)
    if not _USERNAME.fullmatch(norm):
        raise InvalidAccountData(
            f"invalid username {name!r}: 2-32 characters, a letter first, then letters a-z,"
            " digits, '.', '_' or '-'"
        )
    return norm


def check_password(password: str, username: str = "") -> None:
    """Length rules only (NIST SP 800-63B): no composition rules, no silent truncation."""
    norm = unicodedata.normalize("NFKC", password)
    if len(norm) < MIN_PASSWORD:
        raise InvalidAccountData(
            f"password too short: at least {MIN_PASSWORD} characters needed"
            f" (got {len(norm)}); a few words together make a good one"
        )
    if len(norm) > MAX_PASSWORD:
        raise InvalidAccountData(f"password too long: at most {MAX_PASSWORD} characters")
    if username and norm.strip().lower() == normalize_username(username):
        raise InvalidAccountData("password must not be the username")


def check_role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise InvalidAccountData(f"invalid role {role!r}: one of {', '.join(ROLES)}")


def check_skills(skills: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Skills are queue names: lowercase, sorted, without duplicates."""
    out: set[str] = set()
    for raw in skills:
        skill = raw.strip().lower()
        if not skill:
            continue
        if not _SKILL.fullmatch(skill):
            raise InvalidAccountData(
                f"invalid skill {raw!r}: a queue name of up to 32 characters a-z, 0-9, '_', '-'"
            )
        out.add(skill)
    return tuple(sorted(out))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _derive(password: str, salt: bytes, cost: ScryptCost) -> bytes:
    secret = unicodedata.normalize("NFKC", password).encode("utf-8")
    return hashlib.scrypt(
        secret,
        salt=salt,
        n=1 << cost.log2_n,
        r=cost.r,
        p=cost.p,
        maxmem=cost.maxmem,
        dklen=_KEY_BYTES,
    )


def hash_password(password: str, cost: ScryptCost = DEFAULT_COST) -> str:
    """A new hash with a fresh random salt. Blocking (~90 ms): not on the event loop."""
    salt = os.urandom(_SALT_BYTES)
    key = _derive(password, salt, cost)
    return f"$scrypt$ln={cost.log2_n},r={cost.r},p={cost.p}${_b64(salt)}${_b64(key)}"


def parse_hash(encoded: str) -> tuple[ScryptCost, bytes, bytes]:
    """Cost, salt and key of a stored hash; ValueError when it is not one of ours."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[0] or parts[1] != "scrypt":
        raise ValueError("not a $scrypt$ hash")
    try:
        params = dict(item.split("=", 1) for item in parts[2].split(","))
        cost = ScryptCost(int(params["ln"]), int(params["r"]), int(params["p"]))
        return cost, _unb64(parts[3]), _unb64(parts[4])
    except (KeyError, ValueError) as exc:
        raise ValueError(f"malformed $scrypt$ hash: {exc}") from None


def verify_password(password: str, encoded: str) -> bool:
    """Whether the password matches; constant-time comparison of the derived keys."""
    cost, salt, key = parse_hash(encoded)
    return hmac.compare_digest(_derive(password, salt, cost), key)


def needs_rehash(encoded: str, cost: ScryptCost = DEFAULT_COST) -> bool:
    try:
        return parse_hash(encoded)[0] != cost
    except ValueError:
        return True
