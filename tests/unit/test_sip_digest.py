"""Digest maths against RFC 7616 §3.9.1, and the challenge/verify rules, with a fake clock."""

from __future__ import annotations

import pytest

from telephony.sip import digest
from telephony.sip.digest import Credentials, DigestAuth

# RFC 7616 §3.9.1 (errata 4495: "Circle of Life", lower-case "of")
REALM = "http-auth@example.org"
NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_worked_examples(algorithm: str, expected: str) -> None:
    ha1 = digest.ha1(algorithm, "Mufasa", REALM, "Circle of Life")
    got = digest.response(algorithm, ha1, NONCE, "00000001", CNONCE, "GET", "/dir/index.html")
    assert got == expected


def test_parse_params_quoted_and_tokens() -> None:
    params = digest.parse_params(
        'Digest username="a\\"b", realm="r, x", nc=00000001, qop=auth, response="ff"'
    )
    assert params == {
        "username": 'a"b',
        "realm": "r, x",
        "nc": "00000001",
        "qop": "auth",
        "response": "ff",
    }
    assert digest.parse_params("Basic dXNlcjpwYXNz") is None
    assert digest.parse_params('Digest username="unterminated') is None


URI = "sip:helpline@127.0.0.1:5060"


def auth(users: dict[str, Credentials] | None = None, **kw: object) -> DigestAuth:
    creds = Credentials.from_password("trunk", "s3cret", "loket")
    return DigestAuth("loket", users if users is not None else {"trunk": creds}, **kw)  # type: ignore[arg-type]


def nonce_of(challenge: str) -> str:
    params = digest.parse_params(challenge)
    assert params is not None
    return params["nonce"]


def answer(
    challenge: str,
    *,
    password: str = "s3cret",
    user: str = "trunk",
    nc: str = "00000001",
    method: str = "INVITE",
    uri: str = URI,
) -> str:
    params = digest.parse_params(challenge)
    assert params is not None
    algorithm = params["algorithm"]
    ha1 = digest.ha1(algorithm, user, params["realm"], password)
    resp = digest.response(algorithm, ha1, params["nonce"], nc, "abc123", method, uri)
    return (
        f'Digest username="{user}", realm="{params["realm"]}", nonce="{params["nonce"]}", '
        f'uri="{uri}", response="{resp}", algorithm={algorithm}, qop=auth, nc={nc}, '
        'cnonce="abc123"'
    )


def test_challenges_offer_sha256_first_then_md5_with_qop_auth() -> None:
    sha, md5 = auth().challenges(0.0)
    assert "algorithm=SHA-256" in sha and "algorithm=MD5" in md5
    assert 'qop="auth"' in sha and 'realm="loket"' in sha
    assert nonce_of(sha) == nonce_of(md5) and "stale" not in sha


@pytest.mark.parametrize("index", [0, 1])
def test_right_password_passes_either_algorithm(index: int) -> None:
    a = auth()
    challenge = a.challenges(0.0)[index]
    verdict = a.verify([answer(challenge)], "INVITE", 1.0)
    assert verdict.ok and verdict.username == "trunk"


def test_precomputed_ha1_works_without_password() -> None:
    ha1 = digest.ha1("SHA-256", "trunk", "loket", "s3cret")
    a = auth({"trunk": Credentials("trunk", {"SHA-256": ha1})})
    sha, md5 = a.challenges(0.0)
    assert a.verify([answer(sha)], "INVITE", 1.0).ok
    assert a.verify([answer(md5)], "INVITE", 1.0).reason == "unknown_user"  # no MD5 HA1


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"password": "guess"}, "wrong"),
        ({"user": "nobody"}, "unknown_user"),
        ({"uri": "http://example.org/"}, "malformed"),  # not a SIP URI
        ({"method": "BYE"}, "wrong"),  # signed for another method
    ],
)
def test_wrong_answers_fail(kw: dict[str, str], reason: str) -> None:
    a = auth()
    challenge = a.challenges(0.0)[0]
    verdict = a.verify([answer(challenge, **kw)], "INVITE", 1.0)
    assert not verdict.ok and verdict.reason == reason and not verdict.stale


def test_expired_nonce_is_stale_but_only_with_the_right_password() -> None:
    a = auth(nonce_ttl_s=300.0)
    challenge = a.challenges(0.0)[0]
    assert a.verify([answer(challenge)], "INVITE", 299.0).ok
    later = a.verify([answer(challenge, nc="00000002")], "INVITE", 301.0)
    assert later.reason == "stale" and later.stale
    wrong = a.verify([answer(challenge, password="x", nc="00000003")], "INVITE", 301.0)
    assert wrong.reason == "wrong" and not wrong.stale
    assert "stale=true" in a.challenges(301.0, stale=True)[0]


def test_nonce_not_issued_by_us_is_stale() -> None:
    a = auth()
    forged = 'Digest realm="loket", nonce="made-up", algorithm=SHA-256, qop="auth"'
    assert a.verify([answer(forged)], "INVITE", 1.0).stale


def test_replayed_nonce_count_is_refused_and_higher_count_accepted() -> None:
    a = auth()
    challenge = a.challenges(0.0)[0]
    header = answer(challenge)
    assert a.verify([header], "INVITE", 1.0).ok
    assert a.verify([header], "INVITE", 2.0).reason == "replay"
    assert a.verify([answer(challenge, nc="00000002")], "INVITE", 3.0).ok


def test_missing_or_foreign_credentials() -> None:
    a = auth()
    assert a.verify([], "INVITE", 0.0).reason == "no_credentials"
    other = 'Digest realm="elsewhere", username="trunk", nonce="n", response="x"'
    assert a.verify([other], "INVITE", 0.0).reason == "malformed"
    challenge = a.challenges(0.0)[0]
    no_qop = answer(challenge).replace(", qop=auth", "")
    assert a.verify([no_qop], "INVITE", 0.0).reason == "malformed"


def test_nonce_table_is_bounded() -> None:
    a = auth(max_nonces=100, nonce_ttl_s=60.0)
    for i in range(1000):
        a.challenges(i * 0.001)
    assert len(a) == 100
    a.challenges(120.0)  # the rest expired
    assert len(a) == 1
