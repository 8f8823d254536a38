"""radclient (freeradius-utils) against the running server with our
dictionary: every request kind, accounting Start/Stop, Status-Server."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from radius.store import open_store
from tests.conftest import DICTIONARY_DIR
from tests.peers import require_program
from tests.radius.server_process import running
from tests.radius.vectors import QPXML

pytestmark = pytest.mark.interop

FILES = Path(__file__).parent / "radclient"

DATASET = {
    "accounts": [
        {
            "name": "account",
            "password": "secret-pw",
            "account_type": 4,
            "rcv_email": "email@domain.com",
            "queue_profile": QPXML,
            "snd_ani": "5035550100",
            "snd_tsid": "ACCOUNT FAX",
        },
        {"name": "testata"},
        {"name": "test"},
        {"name": "norecv", "receive_enabled": False},
        {"name": "catchall"},
        {"name": "grp", "account_type": 8},
        {"name": "alice"},
        {"name": "bob"},
    ],
    "dids": [
        {"did": "5551231234", "account": "account"},
        {"did": "5559990000", "account": "account", "enabled": False},
        {"did": "2222", "account": "testata", "snd_ani": "5551119999", "line_num": 2, "line_id": "ATA line 2"},
        {"did": "1111", "account": "test"},
        {"did": "4444", "account": "test"},
        {"did": "*", "account": "catchall"},
    ],
    "devices": [
        {"kind": "mac", "identifier": "00908F1D37F0", "account": "account"},
        {"kind": "serial", "identifier": "27482734", "account": "account"},
    ],
    "emails": [("sender@example.com", "account")],
    "groups": {"grp": ["alice", "bob"]},
    "called_numbers": [("5551231234", 0)],
}


@pytest.fixture(scope="module")
def radclient():
    return require_program("radclient", "freeradius-utils")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # Two worker processes sharing the ports (SO_REUSEPORT): the whole suite runs against them.
    yield from running(tmp_path_factory.mktemp("radclient"), DATASET, workers=2)


def send(radclient, server, text_or_file, kind="auth"):
    """Run radclient -x with one request; return (reply code, [attribute lines])."""
    data = text_or_file.read_text() if isinstance(text_or_file, Path) else text_or_file
    port = server.acct_port if kind == "acct" else server.auth_port
    done = subprocess.run(
        [
            radclient,
            "-x",
            "-r",
            "2",
            "-t",
            "3",
            "-d",
            str(DICTIONARY_DIR),
            f"{server.host}:{port}",
            kind,
            server.secret,
        ],
        input=data.encode(),
        capture_output=True,
        timeout=30,
    )
    out = done.stdout.decode(errors="replace")
    m = re.search(r"^Received (\S+) Id \d+.*$\n((?:\t.*\n?)*)", out, re.M)
    assert m, f"no reply; radclient said:\n{out}\n{done.stderr.decode(errors='replace')}\n{server.log()}"
    lines = [ln.strip() for ln in m.group(2).splitlines() if ln.strip()]
    return m.group(1), [ln for ln in lines if not ln.startswith("Message-Authenticator")]


def expected(name: str, server) -> tuple[str, list[str]]:
    lines = (FILES / f"{name}.expect").read_text().splitlines()
    if any("GROUP" in ln for ln in lines):
        store = open_store(f"sqlite:///{server.db_path}", init=False)
        stamp = store.get_account("grp").last_modified
        store.close()
        lines = [ln.replace("GROUP", str(stamp)) for ln in lines]
    return lines[0], lines[1:]


AUTH_CASES = sorted(p.stem for p in FILES.glob("E*.req"))


@pytest.mark.parametrize("name", AUTH_CASES)
def test_request_kind(radclient, server, name):
    """radclient's printed reply for each request kind has exactly the expected code and attributes."""
    code, attrs = send(radclient, server, FILES / f"{name}.req")
    want_code, want_attrs = expected(name, server)
    assert code == want_code
    assert attrs == want_attrs


def test_accounting_start_stop_and_called_numbers(radclient, server):
    """Start and Stop are acknowledged and stored once each; the Stop's VoiceError makes the number call-ahead."""
    assert send(radclient, server, FILES / "acct-start.req", "acct") == ("Accounting-Response", [])
    assert send(radclient, server, FILES / "acct-stop.req", "acct") == ("Accounting-Response", [])
    assert send(radclient, server, FILES / "acct-stop.req", "acct") == ("Accounting-Response", [])  # resent Stop
    store = open_store(f"sqlite:///{server.db_path}", init=False)
    try:
        cdrs = [c for c in store.list_cdrs() if c.session_id == "78967f9a89164bb1b43132dec73d45fe"]
    finally:
        store.close()
    assert sorted(c.status_type for c in cdrs) == [1, 2]
    stop = next(c for c in cdrs if c.status_type == 2)
    assert stop.attributes["FB-Page-Count"] == [3] and stop.attributes["FB-Remote-CSID"] == ["REMOTE FAX"]
    json.dumps(stop.attributes)  # stored attributes are plain JSON
    probe = (
        'FB-Command = Get-Call-Ahead-Mode\nFB-Context = Pre-Send-Session\nUser-Name = "5557654321"\n'
        "Message-Authenticator = 0x00\n"
    )
    assert send(radclient, server, probe) == ("Access-Accept", ["FB-Call-Ahead-Mode = Dynamic"])


def test_status_server(radclient, server):
    """Status-Server is answered on the auth and the accounting port."""
    ma = "Message-Authenticator = 0x00\n"
    assert send(radclient, server, ma, "status")[0] == "Access-Accept"
    done = subprocess.run(
        [
            radclient,
            "-r",
            "1",
            "-t",
            "3",
            "-d",
            str(DICTIONARY_DIR),
            f"{server.host}:{server.acct_port}",
            "status",
            server.secret,
        ],
        input=ma.encode(),
        capture_output=True,
        timeout=30,
    )
    assert b"Received Accounting-Response" in done.stdout


def test_stop_with_wrongly_sized_attribute_acknowledged(radclient, server):
    """A Stop whose FB-Page-Count is 5 raw bytes (radclient's Attr-26.30694.240 syntax) is
    acknowledged, and stored with that value kept raw."""
    stop = (
        'Acct-Status-Type = Stop\nAcct-Session-Id = "raw-page-count"\nUser-Name = "alice"\n'
        "Attr-26.30694.240 = 0x0000000005\n"
    )
    assert send(radclient, server, stop, "acct") == ("Accounting-Response", [])
    store = open_store(f"sqlite:///{server.db_path}", init=False)
    try:
        (cdr,) = [c for c in store.list_cdrs() if c.session_id == "raw-page-count"]
    finally:
        store.close()
    assert (30694, 240, "0000000005") in cdr.raw_attributes and cdr.user_name == "alice"


@pytest.fixture(scope="module")
def delaying_server(tmp_path_factory):
    yield from running(tmp_path_factory.mktemp("radclient-delay"), DATASET, reject_delay=None)


def test_default_reject_delay(radclient, delaying_server):
    """With the default configuration (reject_delay 1 s) a wrong password and an unknown account are
    rejected after about a second, without radclient having to retransmit; an accept is not delayed."""
    for request in (
        FILES / "E01b-login-badpw.req",
        'FB-Command = Get-Account\nFB-Context = Account-Login\nUser-Name = "nobody"\n'
        'User-Password = "wrong"\nMessage-Authenticator = 0x00\n',
    ):
        started = time.monotonic()
        assert send(radclient, delaying_server, request) == (
            "Access-Reject",
            ['Reply-Message = "invalid account name or password"'],
        )
        assert time.monotonic() - started >= 0.95
    code, _ = send(radclient, delaying_server, FILES / "E01-login.req")
    assert code == "Access-Accept"
