"""FaxBack handler rules beyond the golden vectors: rejects, soft rejects,
failover, call-ahead, UUID mode, accounting records."""

from __future__ import annotations

import uuid

import pytest

from radius.codec import decode_request, encode_request
from radius.handlers import HandlerConfig, accounting_record, handle_access
from radius.model import Code, Verdict
from tests.radius.helpers import SECRET, dictionary, memory_store

DICT = dictionary()
AUTH = bytes(range(16))


def request(attrs, password=None, code=Code.ACCESS_REQUEST):
    raw = encode_request(code, 7, attrs, SECRET, DICT, authenticator=AUTH, password=password)
    return decode_request(raw, SECRET, DICT)


def cmd(command, context, *attrs, password=None):
    return request([("FB-Command", command), ("FB-Context", context), *attrs], password=password)


@pytest.fixture
def store():
    s = memory_store(
        {
            "accounts": [
                {
                    "name": "Alice",
                    "password": "pw-alice",
                    "account_type": 0,
                    "snd_ani": "5035550100",
                    "snd_tsid": "ALICE FAX",
                    "call_ahead_mode": 1,
                },
                {"name": "nosend", "send_enabled": False},
                {"name": "norecv", "receive_enabled": False},
                {"name": "failing", "receive_enabled": False, "rcv_failover_account": "Alice", "rcv_failover_mode": 0},
                {"name": "always", "call_ahead_mode": 2},
                {"name": "never", "call_ahead_mode": 0},
                {"name": "catchall"},
            ],
            "dids": [
                {"did": "5035551000", "account": "Alice"},
                {"did": "5035552000", "account": "Alice", "enabled": False},
                {"did": "*", "account": "catchall"},
            ],
            "called_numbers": [("5035557000", 0), ("5035558000", 2), ("5035558000", 0)],
        }
    )
    yield s
    s.close()


def answer(store, req, cfg=None):
    return handle_access(req, store, cfg or HandlerConfig())


def test_account_names_are_case_insensitive(store):
    """Get-Account finds 'Alice' when asked for 'aLICE'."""
    d = answer(store, cmd(1, 3, ("User-Name", "aLICE")))
    assert d.verdict is Verdict.ACCEPT
    assert ("FB-Snd-ANI", "5035550100") in d.attributes and ("FB-Snd-TSID", "ALICE FAX") in d.attributes


def test_login_checks_password(store):
    """Account-Login accepts the right password and rejects a wrong one with the same message as an unknown name."""
    assert answer(store, cmd(1, 1, ("User-Name", "alice"), password="pw-alice")).verdict is Verdict.ACCEPT
    wrong = answer(store, cmd(1, 1, ("User-Name", "alice"), password="nope"))
    unknown = answer(store, cmd(1, 1, ("User-Name", "mallory"), password="pw-alice"))
    assert wrong.verdict is unknown.verdict is Verdict.REJECT
    assert wrong.reason == unknown.reason == "invalid account name or password"


def test_login_without_password_is_rejected(store):
    """Account-Validate without User-Password is rejected."""
    assert answer(store, cmd(1, 2, ("User-Name", "alice"))).verdict is Verdict.REJECT


def test_unknown_account_rejected_with_reason(store):
    """Pre-Send for an unknown account is an Access-Reject naming it."""
    d = answer(store, cmd(1, 3, ("User-Name", "ghost")))
    assert d.verdict is Verdict.REJECT and "ghost" in d.reason


def test_long_name_rejected(store):
    """Names over 16 bytes are rejected outside UUID mode."""
    d = answer(store, cmd(1, 3, ("User-Name", "x" * 17)))
    assert d.verdict is Verdict.REJECT and "16 bytes" in d.reason


def test_send_disabled_is_soft_reject(store):
    """A known account with sending disabled gets Accept + FB-Snd-From-Account = 0."""
    d = answer(store, cmd(1, 3, ("User-Name", "nosend")))
    assert d.verdict is Verdict.ACCEPT and ("FB-Snd-From-Account", 0) in d.attributes


def test_receive_disabled_gets_failover_to_catch_all(store):
    """An account that cannot receive gets FB-Rcv-To-Account = 0 and the catch-all DID's account as failover."""
    d = answer(store, cmd(1, 4, ("User-Name", "norecv")))
    assert d.verdict is Verdict.ACCEPT
    assert ("FB-Rcv-To-Account", 0) in d.attributes
    assert ("FB-Rcv-Failover-Account-Id", "catchall") in d.attributes


def test_configured_failover_wins(store):
    """The account's own failover account is returned rather than the catch-all."""
    d = answer(store, cmd(1, 4, ("User-Name", "failing")))
    assert ("FB-Rcv-Failover-Account-Id", "Alice") in d.attributes


def test_disabled_did(store):
    """A disabled DID is answered with its account and FB-DID-Enabled = 0."""
    d = answer(store, cmd(2, 4, ("User-Name", "503-555-2000")))
    assert d.attributes == (("User-Name", "Alice"), ("FB-DID-Enabled", 0))


def test_unrouted_did_falls_to_catch_all(store):
    """An unknown DID routes to the catch-all DID '*'."""
    d = answer(store, cmd(2, 4, ("User-Name", "5035559999")))
    assert d.attributes == (("User-Name", "catchall"),)


def test_unrouted_did_without_catch_all_rejected():
    """Without a catch-all, an unknown DID is rejected with a reason."""
    s = memory_store({"accounts": [{"name": "a"}]})
    d = answer(s, cmd(2, 4, ("User-Name", "5035559999")))
    assert d.verdict is Verdict.REJECT and "5035559999" in d.reason


@pytest.mark.parametrize(
    "account,number,expected",
    [
        ("alice", "5035557000", 0),  # known good number, dynamic account
        ("alice", "5035558000", 1),  # a voice error once: always call ahead after
        ("alice", "5035559999", 1),  # unknown number: call ahead
        ("always", "5035557000", 1),
        ("never", "5035559999", 0),
    ],
)
def test_call_ahead_in_pre_send(store, account, number, expected):
    """Queue transfers get the call-ahead flag from the account mode and the Called Numbers database."""
    d = answer(store, cmd(1, 3, ("User-Name", account), ("FB-Dial-Number", number), ("FB-Transfer-Type", 2)))
    assert ("FB-Call-Ahead-Mode", expected) in d.attributes


def test_real_time_transfer_gets_no_call_ahead(store):
    """Real-time transfers get no FB-Call-Ahead-Mode."""
    d = answer(store, cmd(1, 3, ("User-Name", "alice"), ("FB-Dial-Number", "5035557000"), ("FB-Transfer-Type", 1)))
    assert not any(n == "FB-Call-Ahead-Mode" for n, _ in d.attributes)


def test_unknown_pair_rejected(store):
    """An unknown (command, context) pair is rejected with a Reply-Message."""
    d = answer(store, cmd(9, 1, ("User-Name", "alice")))
    assert d.verdict is Verdict.REJECT and "GET_DIDS_FOR_ACCOUNT" in d.reason
    d = answer(store, cmd(42, 1, ("User-Name", "alice")))
    assert d.verdict is Verdict.REJECT and "(42, 1)" in d.reason


def test_missing_command_rejected(store):
    """A request without FB-Command is rejected."""
    d = answer(store, request([("User-Name", "alice")]))
    assert d.verdict is Verdict.REJECT and "FB-Command" in d.reason


def test_uuid_mode_login_and_lookup(store):
    """In UUID mode, login returns FB-Account-UUID and Pre-Send finds the account by it, in any format."""
    cfg = HandlerConfig(uuid_mode=True, uuid_format="dash", max_name_bytes=64)
    d = answer(store, cmd(1, 1, ("User-Name", "alice"), password="pw-alice"), cfg)
    text = dict(d.attributes)["FB-Account-UUID"].decode()
    raw = uuid.UUID(text).bytes
    for form in (raw, text.encode(), ("0x" + raw.hex()).encode()):
        found = answer(store, cmd(1, 3, ("FB-Account-UUID", form)), cfg)
        assert ("FB-Snd-ANI", "5035550100") in found.attributes


def test_email_lookup_prefers_fb_snd_email(store):
    """Sender e-mail lookup uses FB-Snd-Email when present, else User-Name."""
    store.add_sender_email(__import__("radius.store.api", fromlist=["SenderEmail"]).SenderEmail("a@x.com", "alice"))
    d = answer(store, cmd(3, 5, ("User-Name", "wrong@x.com"), ("FB-Snd-Email", "A@X.COM")))
    assert d.attributes == (("User-Name", "Alice"),)


def test_accounting_record_and_called_number():
    """A Stop with FB-Called-Number-Result yields a CDR keyed on session and a Called Numbers update."""
    req = request(
        [
            ("Acct-Status-Type", 2),
            ("Acct-Session-Id", "s1"),
            ("User-Name", "Alice"),
            ("FB-Dial-Number", "503-555-7000"),
            ("FB-Called-Number-Result", 2),
            ("FB-Page-Count", 3),
        ],
        code=Code.ACCOUNTING_REQUEST,
    )
    record, update = accounting_record(req, "10.0.0.1", 100.0)
    assert record.dedupe_key == "2|s1|alice"
    assert record.attributes["FB-Page-Count"] == [3]
    assert update == ("5035557000", 2)
    again = request(
        [("Acct-Status-Type", 2), ("Acct-Session-Id", "s1"), ("User-Name", "Alice"), ("Acct-Delay-Time", 5)],
        code=Code.ACCOUNTING_REQUEST,
    )
    assert accounting_record(again, "10.0.0.1", 105.0)[0].dedupe_key == record.dedupe_key


def test_uuid_format_config_word_becomes_the_enum():
    """HandlerConfig takes the config word or the member, keeps the member, and refuses other words."""
    from radius.handlers import UuidFormat

    assert HandlerConfig(uuid_format="hex").uuid_format is UuidFormat.HEX
    assert HandlerConfig(uuid_format=UuidFormat.BINARY).format_uuid(bytes(range(16))) == bytes(range(16))
    assert HandlerConfig(uuid_format="hex").format_uuid(bytes(16)) == b"0x" + b"0" * 32
    with pytest.raises(ValueError, match="base64"):
        HandlerConfig(uuid_format="base64")
