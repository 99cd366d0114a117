"""Desk access, unit level: hashing, sessions on a fake clock, CSRF/Origin, throttling, the gate."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from loket.desk import auth as auth_module
from loket.desk.accounts import AccountStore, Expired, Session, SessionPolicy, session_id
from loket.desk.auth import (
    LOGIN_FAILED,
    CurrentUser,
    DeskAuth,
    SupervisorUser,
    install_auth,
)
from loket.desk.csrf import csrf_matches, csrf_token, normalize_origin, origin_problem
from loket.desk.gate import PublicPaths
from loket.desk.passwords import (
    DEFAULT_COST,
    InvalidAccountData,
    ScryptCost,
    check_password,
    check_skills,
    check_username,
    hash_password,
    needs_rehash,
    parse_hash,
    verify_password,
)
from loket.desk.throttle import LoginThrottle, ThrottlePolicy

CHEAP = ScryptCost(10, 8, 1)  # the production cost works the same, only slower
PASSWORD = "correct horse battery"
ORIGIN = {"origin": "http://testserver"}


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --------------------------------------------------------------------------- passwords


def test_hash_verifies_only_the_right_password_and_salts_each_hash() -> None:
    first = hash_password(PASSWORD, CHEAP)
    second = hash_password(PASSWORD, CHEAP)
    assert first != second  # per-hash random salt
    assert parse_hash(first)[1] != parse_hash(second)[1]
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)
    assert not verify_password(PASSWORD + "!", first)
    assert not verify_password("", first)


def test_hash_string_carries_its_cost_and_old_costs_need_a_rehash() -> None:
    encoded = hash_password(PASSWORD, CHEAP)
    assert encoded.startswith("$scrypt$ln=10,r=8,p=1$")
    cost, salt, key = parse_hash(encoded)
    assert cost == CHEAP and len(salt) == 16 and len(key) == 32
    assert needs_rehash(encoded, DEFAULT_COST)
    assert not needs_rehash(encoded, CHEAP)
    assert needs_rehash("not a hash")


def test_default_cost_is_what_hash_password_uses() -> None:
    assert parse_hash(hash_password(PASSWORD))[0] == DEFAULT_COST


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "$argon2id$v=19$m=1,t=1,p=1$abc$def",
        "$scrypt$ln=14,r=8$abc$def",
        "$scrypt$ln=30,r=8,p=1$AAAA$AAAA",  # a tampered cost asking for 128 GiB
        "$scrypt$ln=14,r=8,p=1$!!$AAAA",
    ],
)
def test_malformed_or_hostile_hashes_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        verify_password(PASSWORD, bad)


def test_passwords_are_unicode_normalized() -> None:
    # the same password typed on two keyboards: precomposed é vs e + combining accent
    encoded = hash_password("caf\u00e9 au lait 1234", CHEAP)
    assert verify_password("cafe\u0301 au lait 1234", encoded)


def test_password_rules_explain_themselves() -> None:
    with pytest.raises(InvalidAccountData, match=r"at least 12 characters.*got 5"):
        check_password("short")
    with pytest.raises(InvalidAccountData, match="at most"):
        check_password("x" * 1025)
    with pytest.raises(InvalidAccountData, match="username"):
        check_password("anna.de.vries", "Anna.de.Vries")
    check_password("twelve chars")


def test_usernames_and_skills_are_normalized_and_checked() -> None:
    assert check_username("  Anna.de-Vries ") == "anna.de-vries"
    for bad in ["a", "1anna", "anna vries", "anna;drop", "x" * 33, "ánna"]:
        with pytest.raises(InvalidAccountData, match="invalid username"):
            check_username(bad)
    assert check_skills(["Toeslagen", "belasting", "toeslagen", " "]) == ("belasting", "toeslagen")
    with pytest.raises(InvalidAccountData, match="invalid skill"):
        check_skills(["geen spaties"])


# --------------------------------------------------------------------------- sessions


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AccountStore]:
    s = AccountStore(tmp_path / "desk.sqlite", SessionPolicy(idle_s=600, max_s=3600))
    s.add("anna", "agent", ("belasting",), hash_password(PASSWORD, CHEAP), 0.0)
    s.add("bert", "supervisor", (), hash_password(PASSWORD, CHEAP), 0.0)
    yield s
    s.close()


def test_session_lives_while_used_and_ends_after_idle_timeout(store: AccountStore) -> None:
    token, session = store.create_session("anna", 1000.0)
    assert session.expires_at == 1600.0
    found = store.session(token, 1599.0)
    assert isinstance(found, Session) and found.account.name == "anna"
    assert found.expires_at == 2199.0  # the idle clock restarted
    found = store.session(token, 2198.0)
    assert isinstance(found, Session)
    assert store.session(token, 2198.0 + 600) == Expired(session.id, "anna", "idle")
    assert store.session(token, 2198.0 + 601) is None  # and it is gone


def test_session_ends_at_its_absolute_lifetime_however_busy(store: AccountStore) -> None:
    token, _ = store.create_session("anna", 0.0)
    for t in range(300, 3600, 300):
        assert isinstance(store.session(token, float(t)), Session)
    expired = store.session(token, 3600.0)
    assert isinstance(expired, Expired) and expired.reason == "lifetime"


def test_session_alive_touches_for_websockets(store: AccountStore) -> None:
    token, session = store.create_session("anna", 0.0)
    for t in range(500, 3000, 500):
        assert store.session_alive(session.id, float(t))
    assert not store.session_alive(session.id, 3000.0 + 600)
    assert store.session(token, 3600.0) is None


def test_tokens_are_random_and_never_stored(store: AccountStore, tmp_path: Path) -> None:
    tokens = {store.create_session("anna", 0.0)[0] for _ in range(20)}
    assert len(tokens) == 20 and all(len(t) >= 43 for t in tokens)
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("desk.sqlite*"))
    for token in tokens:
        assert token.encode() not in raw
        assert session_id(token).encode() in raw  # only its SHA-256


def test_unknown_token_is_no_session(store: AccountStore) -> None:
    assert store.session("made-up", 0.0) is None


def test_password_change_ends_other_sessions(store: AccountStore) -> None:
    t1, s1 = store.create_session("anna", 0.0)
    t2, _ = store.create_session("anna", 0.0)
    t3, _ = store.create_session("bert", 0.0)
    assert (
        store.set_password(
            "anna", hash_password("a new long password", CHEAP), 10.0, keep_session=s1.id
        )
        == 1
    )
    assert isinstance(store.session(t1, 20.0), Session)
    assert store.session(t2, 20.0) is None
    assert isinstance(store.session(t3, 20.0), Session)
    assert store.set_password("anna", hash_password("another long one", CHEAP), 30.0) == 1
    assert store.session(t1, 40.0) is None


def test_removing_an_account_ends_its_sessions(store: AccountStore) -> None:
    token, _ = store.create_session("anna", 0.0)
    store.remove("anna")
    assert store.session(token, 1.0) is None and store.session_count("anna") == 0


def test_role_and_skill_changes_apply_to_live_sessions(store: AccountStore) -> None:
    token, _ = store.create_session("anna", 0.0)
    store.update("anna", role="supervisor", skills=("algemeen", "toeslagen"))
    found = store.session(token, 1.0)
    assert isinstance(found, Session)
    assert found.account.role == "supervisor" and found.account.skills == ("algemeen", "toeslagen")


def test_purge_removes_only_expired_sessions(store: AccountStore) -> None:
    store.create_session("anna", 0.0)
    live, _ = store.create_session("bert", 500.0)
    assert store.purge_expired(700.0) == 1
    assert isinstance(store.session(live, 700.0), Session)


def test_store_is_wal_and_private(store: AccountStore) -> None:
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    assert store.path.stat().st_mode & 0o077 == 0


# --------------------------------------------------------------------------- CSRF / Origin


def test_csrf_token_is_tied_to_the_session() -> None:
    a, b = csrf_token("token-a"), csrf_token("token-b")
    assert a != b and a == csrf_token("token-a")
    assert "token-a" not in a
    assert csrf_matches(a, a)
    assert not csrf_matches(a, b) and not csrf_matches(a, None) and not csrf_matches(a, "")
    assert not csrf_matches(a, "é" * 64)


@pytest.mark.parametrize(
    ("headers", "ok"),
    [
        ({"host": "desk.example.nl", "origin": "https://desk.example.nl"}, True),
        ({"host": "desk.example.nl:443", "origin": "https://desk.example.nl"}, True),
        ({"host": "127.0.0.1:8080", "origin": "http://127.0.0.1:8080"}, True),
        ({"host": "[::1]:8080", "origin": "http://[::1]:8080"}, True),
        ({"host": "127.0.0.1:8080", "origin": "http://127.0.0.1:8081"}, False),
        ({"host": "desk.example.nl", "origin": "https://evil.example"}, False),
        ({"host": "desk.example.nl", "origin": "https://desk.example.nl.evil.example"}, False),
        ({"host": "desk.example.nl", "origin": "null"}, False),
        ({"host": "desk.example.nl"}, False),
        ({"host": "desk.example.nl", "referer": "https://desk.example.nl/login"}, True),
        ({"host": "desk.example.nl", "referer": "https://evil.example/desk.example.nl"}, False),
        ({"host": "desk.example.nl", "origin": "javascript:alert(1)"}, False),
        (
            {
                "host": "desk.example.nl",
                "origin": "https://desk.example.nl",
                "sec-fetch-site": "cross-site",
            },
            False,
        ),
    ],
)
def test_origin_must_be_this_site(headers: dict[str, str], ok: bool) -> None:
    assert (origin_problem(headers, frozenset()) is None) is ok


def test_configured_origins_replace_the_host_rule() -> None:
    allowed = frozenset({"https://desk.example.nl"})
    behind_proxy = {"host": "127.0.0.1:8080"}
    assert origin_problem({**behind_proxy, "origin": "https://desk.example.nl"}, allowed) is None
    assert origin_problem({**behind_proxy, "origin": "http://desk.example.nl"}, allowed)
    assert origin_problem({**behind_proxy, "origin": "http://127.0.0.1:8080"}, allowed)
    assert normalize_origin("HTTPS://Desk.Example.NL:443/") == "https://desk.example.nl"
    assert normalize_origin("wss://desk.example.nl/ws") == "https://desk.example.nl"


def test_public_paths_are_exact_or_literal_prefixes() -> None:
    public = PublicPaths(["/login", "/bel", "/webrtc/"])
    assert "/login" in public and "/webrtc/offer" in public and "/webrtc/abc/hangup" in public
    for path in ["/login/", "/loginx", "/belx", "/webrtc", "/webrtc/../api/me", "/webrtc//x"]:
        assert path not in public


# --------------------------------------------------------------------------- throttle


def test_five_failures_then_exponential_back_off() -> None:
    t = LoginThrottle(ThrottlePolicy(per_user=5, base_delay_s=2, max_delay_s=60))
    now = 0.0
    for _ in range(4):
        t.failure("anna", "10.0.0.1", now)
        assert t.retry_after("anna", "10.0.0.1", now) == 0
    waits = []
    for _ in range(6):
        t.failure("anna", "10.0.0.1", now)
        waits.append(t.retry_after("anna", "10.0.0.1", now))
        now += waits[-1]  # the client waits as told, then fails again
    assert waits == [2, 4, 8, 16, 32, 60]
    # another address is blocked too for this username, a different username is not
    assert t.retry_after("anna", "10.0.0.2", now - 1) > 0
    assert t.retry_after("bert", "10.0.0.1", now) == 0


def test_success_clears_the_username_but_not_the_address() -> None:
    t = LoginThrottle(ThrottlePolicy(per_user=5, per_address=8))
    for i in range(7):
        t.failure(f"user{i % 2}", "10.0.0.1", 0.0)
    t.success("user0")
    assert t.failures("user", "user0", 0.0) == 0
    assert t.failures("addr", "10.0.0.1", 0.0) == 7
    t.failure("user2", "10.0.0.1", 0.0)
    assert t.retry_after("user3", "10.0.0.1", 0.0) > 0  # per address, across usernames


def test_failures_are_forgotten_after_a_quiet_hour() -> None:
    t = LoginThrottle(ThrottlePolicy(forget_after_s=3600))
    for _ in range(5):
        t.failure("anna", "10.0.0.1", 0.0)
    assert t.retry_after("anna", "10.0.0.1", 1.0) > 0
    assert t.retry_after("anna", "10.0.0.1", 3600.0) == 0
    assert t.failures("user", "anna", 3600.0) == 0


def test_memory_is_bounded_and_blocks_survive_a_flood() -> None:
    t = LoginThrottle(ThrottlePolicy(per_user=2, per_address=10**9, max_keys=100))
    t.failure("victim-attacker", "10.0.0.1", 0.0)
    t.failure("victim-attacker", "10.0.0.1", 0.0)
    for i in range(1000):
        t.failure(f"made-up-{i}", f"10.1.{i // 250}.{i % 250}", 1.0 + i / 1000)
    assert len(t._keys) <= 100
    assert t.retry_after("victim-attacker", "10.9.9.9", 1.5) > 0


# --------------------------------------------------------------------------- the app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(tmp_path: Path, clock: Clock) -> Iterator[tuple[TestClient, DeskAuth]]:
    app = FastAPI()
    auth = install_auth(
        app,
        tmp_path / "desk.sqlite",
        secure_cookies=False,
        policy=SessionPolicy(idle_s=600, max_s=3600),
        clock=clock,
        cost=CHEAP,
    )
    auth.store.add("anna", "agent", ("belasting",), hash_password(PASSWORD, CHEAP), 0.0)
    auth.store.add("bert", "supervisor", (), hash_password(PASSWORD, CHEAP), 0.0)

    @app.post("/api/note")
    def note(user: CurrentUser) -> dict[str, str]:
        return {"by": user.name}

    @app.get("/api/supervisor")
    def supervisor(user: SupervisorUser) -> dict[str, str]:
        return {"by": user.name}

    @app.get("/api/board", dependencies=[Depends(auth.require_role("supervisor", "agent"))])
    def board() -> dict[str, str]:
        return {"board": "ok"}

    @app.delete("/api/supervisor/thing", dependencies=[Depends(auth.require_role("supervisor"))])
    def delete_thing() -> dict[str, str]:
        return {"deleted": "ok"}

    with TestClient(app) as client:
        yield client, auth
    auth.close()


def login(client: TestClient, name: str = "anna", password: str = PASSWORD) -> str:
    r = client.post("/login", json={"username": name, "password": password}, headers=ORIGIN)
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])


def test_login_sets_a_strict_httponly_cookie_and_me_answers(
    desk: tuple[TestClient, DeskAuth],
) -> None:
    client, _ = desk
    r = client.post("/login", json={"username": "Anna", "password": PASSWORD}, headers=ORIGIN)
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("loket-desk=")
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/", "Max-Age=3600"):
        assert attribute in cookie
    assert "Secure" not in cookie
    me = client.get("/api/me").json()
    assert me["name"] == "anna" and me["role"] == "agent" and me["skills"] == ["belasting"]
    assert me["csrf_token"] == r.json()["csrf_token"]


def test_secure_cookies_use_the_host_prefix(tmp_path: Path) -> None:
    app = FastAPI()
    auth = install_auth(app, tmp_path / "d.sqlite", secure_cookies=True, cost=CHEAP)
    auth.store.add("anna", "agent", (), hash_password(PASSWORD, CHEAP), 0.0)
    with TestClient(app, base_url="https://testserver") as client:
        r = client.post(
            "/login",
            json={"username": "anna", "password": PASSWORD},
            headers={"origin": "https://testserver"},
        )
        assert r.status_code == 200
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("__Host-loket-desk=") and "Secure" in cookie
        assert client.get("/api/me").status_code == 200
    auth.close()


def test_wrong_password_and_unknown_user_get_the_same_answer_and_work(
    desk: tuple[TestClient, DeskAuth], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, auth = desk
    hashes_checked: list[str] = []
    real_verify = verify_password

    def spy(password: str, encoded: str) -> bool:
        hashes_checked.append(encoded)
        return real_verify(password, encoded)

    monkeypatch.setattr(auth_module, "verify_password", spy)
    wrong = client.post("/login", json={"username": "anna", "password": "x" * 12}, headers=ORIGIN)
    unknown = client.post(
        "/login", json={"username": "nobody", "password": "x" * 12}, headers=ORIGIN
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": LOGIN_FAILED}
    assert "set-cookie" not in wrong.headers and "set-cookie" not in unknown.headers
    # both cost one scrypt of the same strength: the unknown user's against a dummy hash
    assert len(hashes_checked) == 2
    assert parse_hash(hashes_checked[0])[0] == parse_hash(hashes_checked[1])[0] == CHEAP
    assert hashes_checked[1] == auth._dummy_hash


def test_login_is_refused_from_another_origin_or_as_a_form(
    desk: tuple[TestClient, DeskAuth],
) -> None:
    client, _ = desk
    body = {"username": "anna", "password": PASSWORD}
    assert client.post("/login", json=body).status_code == 403  # no Origin
    r = client.post("/login", json=body, headers={"origin": "https://evil.example"})
    assert r.status_code == 403 and "set-cookie" not in r.headers
    r = client.post("/login", data=body, headers=ORIGIN)  # a cross-site form cannot send JSON
    assert r.status_code == 415
    r = client.post(
        "/login", content=b"x" * 5000, headers={**ORIGIN, "content-type": "application/json"}
    )
    assert r.status_code == 400


def test_login_throttled_per_username_with_retry_after(
    desk: tuple[TestClient, DeskAuth], clock: Clock
) -> None:
    client, _ = desk
    bad = {"username": "anna", "password": "wrong password!"}
    for _ in range(5):
        assert client.post("/login", json=bad, headers=ORIGIN).status_code == 401
    r = client.post("/login", json={"username": "anna", "password": PASSWORD}, headers=ORIGIN)
    assert r.status_code == 429 and r.headers["retry-after"] == "2"
    assert "2 seconden" in r.json()["detail"]
    # an unknown name is throttled in exactly the same way (no account enumeration)
    for _ in range(5):
        client.post("/login", json={**bad, "username": "nobody"}, headers=ORIGIN)
    assert (
        client.post("/login", json={**bad, "username": "nobody"}, headers=ORIGIN).status_code == 429
    )
    clock.now += 2
    login(client)  # after waiting, the right password works and clears the strikes


def test_state_changes_need_origin_and_csrf_token(desk: tuple[TestClient, DeskAuth]) -> None:
    client, _ = desk
    csrf = login(client)
    assert client.post("/api/note").status_code == 403
    assert client.post("/api/note", headers=ORIGIN).status_code == 403
    assert client.post("/api/note", headers={"x-csrf-token": csrf}).status_code == 403
    wrong = {**ORIGIN, "x-csrf-token": csrf_token("another session")}
    assert client.post("/api/note", headers=wrong).status_code == 403
    foreign = {"origin": "https://evil.example", "x-csrf-token": csrf}
    assert client.post("/api/note", headers=foreign).status_code == 403
    r = client.post("/api/note", headers={**ORIGIN, "x-csrf-token": csrf})
    assert r.status_code == 200 and r.json() == {"by": "anna"}
    # GET needs neither
    assert client.get("/api/me").status_code == 200


def test_roles(desk: tuple[TestClient, DeskAuth]) -> None:
    client, _ = desk
    csrf = login(client, "anna")
    assert client.get("/api/supervisor").status_code == 403
    assert client.get("/api/board").json() == {"board": "ok"}
    headers = {**ORIGIN, "x-csrf-token": csrf}
    assert client.delete("/api/supervisor/thing", headers=headers).status_code == 403
    csrf = login(client, "bert")
    assert client.get("/api/supervisor").json() == {"by": "bert"}
    headers = {**ORIGIN, "x-csrf-token": csrf}
    assert client.delete("/api/supervisor/thing", headers=headers).json() == {"deleted": "ok"}


def test_session_expires_through_the_app(desk: tuple[TestClient, DeskAuth], clock: Clock) -> None:
    client, _ = desk
    login(client)
    clock.now += 599
    assert client.get("/api/me").status_code == 200
    clock.now += 599
    assert client.get("/api/me").status_code == 200
    clock.now += 600
    r = client.get("/api/me")
    assert r.status_code == 401 and "loket-desk=" in r.headers.get("set-cookie", "")


def test_logout_ends_the_session_server_side(desk: tuple[TestClient, DeskAuth]) -> None:
    client, _ = desk
    csrf = login(client)
    token = client.cookies["loket-desk"]
    assert client.post("/logout", headers=ORIGIN).status_code == 403  # logout CSRF too
    assert client.post("/logout", headers={**ORIGIN, "x-csrf-token": csrf}).status_code == 204
    client.cookies.set("loket-desk", token)  # a copied cookie is dead as well
    assert client.get("/api/me").status_code == 401


def test_new_login_replaces_the_presented_session(desk: tuple[TestClient, DeskAuth]) -> None:
    client, auth = desk
    login(client)
    first = client.cookies["loket-desk"]
    login(client)
    assert client.cookies["loket-desk"] != first
    assert auth.store.session(first, auth.clock()) is None
    assert auth.store.session_count("anna") == 1


def test_old_cost_hash_is_upgraded_at_login(tmp_path: Path) -> None:
    app = FastAPI()
    auth = install_auth(app, tmp_path / "d.sqlite", secure_cookies=False, cost=ScryptCost(11, 8, 1))
    auth.store.add("anna", "agent", (), hash_password(PASSWORD, CHEAP), 0.0)
    with TestClient(app) as client:
        login(client)
    stored = auth.store.password_hash("anna")
    assert stored is not None and parse_hash(stored)[0] == ScryptCost(11, 8, 1)
    assert verify_password(PASSWORD, stored)
    auth.close()


def test_audit_log_has_no_secrets(
    desk: tuple[TestClient, DeskAuth], caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = desk
    caplog.set_level(logging.INFO, logger="loket.desk.audit")
    typo = "my secret password in the wrong field"
    client.post("/login", json={"username": typo, "password": PASSWORD}, headers=ORIGIN)
    client.post("/login", json={"username": "anna", "password": "not the password"}, headers=ORIGIN)
    csrf = login(client)
    token = client.cookies["loket-desk"]
    client.post("/logout", headers={**ORIGIN, "x-csrf-token": csrf})
    events = [(r.getMessage(), r.__dict__) for r in caplog.records]
    assert [e for e, _ in events] == [
        "desk.login_failed",
        "desk.login_failed",
        "desk.login",
        "desk.logout",
    ]
    assert all(fields.get("levelname") == "INFO" for _, fields in events)
    unknown, known = events[0][1], events[1][1]
    assert "user" not in unknown and len(unknown["user_hash"]) == 8
    assert known["user"] == "anna"
    text = json.dumps([{k: str(v) for k, v in f.items()} for _, f in events])
    for secret in (typo, PASSWORD, "not the password", token, csrf, session_id(token)):
        assert secret not in text
    assert events[2][1]["session"] == session_id(token)[:8] == events[3][1]["session"]


def test_login_page_is_public_and_locked_down(desk: tuple[TestClient, DeskAuth]) -> None:
    client, _ = desk
    r = client.get("/login")
    assert r.status_code == 200 and 'lang="nl"' in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'sha256-" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    login(client)
    r = client.get("/login", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/desk"
