"""``sip.security``: errors that name the key and the fix; settings become the core's policy."""

from __future__ import annotations

import pytest

from config.settings import ConfigError, load_settings
from loket.sip_security import build_admission
from telephony.sip import digest
from telephony.sip.admission import Incoming


@pytest.mark.parametrize(
    ("env", "needles"),
    [
        (
            {"LOKET_SIP__SECURITY__TRUSTED": "[10.0.0.300/8]"},
            ["sip.security.trusted", "'10.0.0.300/8' is not an IP address or CIDR", "192.0.2.0/24"],
        ),
        (
            {"LOKET_SIP__SECURITY__TRANSPORTS": "{udp: {trusted: [trunk.example.nl]}}"},
            ["sip.security.transports.udp.trusted", "not an IP address or CIDR"],
        ),
        (
            {"LOKET_SIP__SECURITY__USERS": "[{username: trunk}]"},
            ["needs a password, or ha1_sha256"],
        ),
        (
            {"LOKET_SIP__SECURITY__USERS": "[{username: trunk, ha1_md5: abc}]"},
            ["ha1_md5", "32 hex digits", "md5sum"],
        ),
        (
            {
                "LOKET_SIP__SECURITY__USERS": f"[{{username: t, ha1_md5: {'a' * 32}}}]",
                "LOKET_SIP__SECURITY__ALGORITHMS": "[SHA-256]",
            },
            ["no HA1 for any of sip.security.algorithms"],
        ),
        ({"LOKET_SIP__SECURITY__STRANGERS": "welcome"}, ["sip.security.strangers"]),
        ({"LOKET_SIP__SECURITY__INVITES__PER_S": "0"}, ["sip.security.invites.per_s"]),
    ],
)
def test_bad_security_settings_name_the_key_and_the_fix(
    env: dict[str, str], needles: list[str]
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env)
    for needle in needles:
        assert needle in str(err.value)


def test_default_lets_this_machine_in_and_refuses_strangers_until_accounts_exist() -> None:
    sip = load_settings({}).sip
    adm = build_admission(sip.security, sip.host)
    for source in ("127.0.0.1", "127.0.0.53", "::1"):
        assert adm.check(Incoming(source, "udp", "INVITE"), 0.0).action == "admit"
    for source in ("192.168.1.20", "10.0.0.8", "198.51.100.7"):
        decision = adm.check(Incoming(source, "tcp", "INVITE"), 0.0)
        assert (decision.action, decision.status) == ("reply", 403)


def test_precomputed_ha1_and_per_transport_overrides() -> None:
    ha1 = digest.ha1("SHA-256", "trunk", "loket", "s3cret")
    sip = load_settings(
        {
            "LOKET_SIP__HOST": "10.0.0.5",
            "LOKET_SIP__SECURITY__USERS": f"[{{username: trunk, ha1_sha256: {ha1.upper()}}}]",
            "LOKET_SIP__SECURITY__TRANSPORTS": "{udp: {trusted: [192.0.2.0/28], strangers: drop}}",
        }
    ).sip
    adm = build_admission(sip.security, sip.host)
    assert adm.trusted("192.0.2.3", "udp") and not adm.trusted("192.0.2.3", "tcp")
    assert adm.trusted("10.0.0.5", "udp") and adm.trusted("10.0.0.5", "tcp")  # own address
    assert not adm.trusted("127.0.0.1", "udp") and adm.trusted("127.0.0.1", "tcp")
    assert adm.check(Incoming("198.51.100.7", "udp", "INVITE"), 0.0).action == "drop"
    challenge = adm.check(Incoming("198.51.100.7", "tcp", "INVITE"), 0.0)
    assert challenge.status == 401
    values = [v for _, v in challenge.headers]
    params = digest.parse_params(values[0])
    assert params is not None and params["algorithm"] == "SHA-256"
    uri = "sip:helpline@10.0.0.5"
    resp = digest.response("SHA-256", ha1, params["nonce"], "00000001", "x", "INVITE", uri)
    auth = (
        f'Digest username="trunk", realm="loket", nonce="{params["nonce"]}", uri="{uri}", '
        f'response="{resp}", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="x"'
    )
    ok = adm.check(Incoming("198.51.100.7", "tcp", "INVITE", authorization=[auth]), 1.0)
    assert ok.action == "admit"
