"""RFC 4475 torture messages: the files in tests/data/rfc4475/, expanded to wire bytes.

The files keep the RFC's own notation (§2.1, §2.2): each line of the file is a line of
the message (sent with CRLF), ``<allOneLine>`` … ``</allOneLine>`` joins the lines
between into one, and ``<hex>`` … ``</hex>`` stands for the octets spelled in hex
(non-printable and non-ASCII octets, bare CR/LF, trailing whitespace).
"""

from __future__ import annotations

import re
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "rfc4475"
_ONE_LINE = re.compile(r"<allOneLine>\n(.*?)\n</allOneLine>", re.S)
_HEX = re.compile(rb"<hex>([0-9A-Fa-f]*)</hex>")


def expand(text: str) -> bytes:
    """The octets a file in the RFC's notation stands for."""
    joined = _ONE_LINE.sub(lambda m: m.group(1).replace("\n", ""), text)
    wire = joined.replace("\n", "\r\n").encode("ascii")
    return _HEX.sub(lambda m: bytes.fromhex(m.group(1).decode()), wire)


def names() -> list[str]:
    return sorted(p.stem for p in DATA.glob("*.dat"))


def load(name: str) -> bytes:
    return expand((DATA / f"{name}.dat").read_text(encoding="ascii"))
