"""The port-server role against a real FreeRADIUS 3.2 (Debian's freeradius)
configured with the product's FaxBack dictionary: a ``files`` users entry
returns FB-* reply attributes, accounting goes to the ``detail`` module.

Debian 12's FreeRADIUS 3.2.1 puts no Message-Authenticator in its replies, so
the server is configured as legacy for replies; requests still carry one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor

from appliance.portserver import Cdr
from radius.client import ServerSpec
from tests.peers import require_program
from tests.portserver.helpers import make_role

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from _freeradius import FreeRadius, free_udp_ports, users_entry  # noqa: E402

SECRET = "fr-interop-secret"
USERS = users_entry(
    "alice",
    {"Auth-Type": "Accept"},
    {
        "FB-Snd-TSID": "ALICE FR",
        "FB-Snd-ANI": "5035550199",
        "FB-Rule-Group": "fr-group",
        "FB-Save-CDR": 1,
        "FB-Call-Ahead-Mode": 0,
    },
) + users_entry("mallory", {"Auth-Type": "Reject"}, {"Reply-Message": "account suspended"})

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def freeradius(tmp_path_factory):
    require_program("freeradius", "freeradius")
    auth_port, acct_port = free_udp_ports(2)
    fr = FreeRadius(
        tmp_path_factory.mktemp("freeradius"), auth_port, acct_port, SECRET, users=USERS, accounting="detail"
    )
    fr.start(timeout=60)
    try:
        yield fr
    finally:
        fr.stop()


@pytest.fixture
def role(freeradius, tmp_path):
    server = ServerSpec(
        "127.0.0.1",
        freeradius.auth_port,
        freeradius.acct_port,
        SECRET.encode(),
        require_message_authenticator_in_replies=False,
        name="freeradius",
    )
    role, client = make_role(reactor, [server], tmp_path / "spool", timeout=2.0, retries=2)
    yield role
    role.stop_service()
    pytest_twisted.blockon(client.close())


@pytest_twisted.inlineCallbacks
def test_authorize_send_gets_freeradius_attributes(role):
    """Get-Account / Pre-Send-Session returns the FB-* attributes of the users entry."""
    auth = yield role.authorize_send("alice", "5551112345", "fr-send-1", transfer_type=2)
    assert auth.allowed and auth.tsid == "ALICE FR" and auth.ani == "5035550199"
    assert auth.rule_group == "fr-group" and auth.save_cdr and auth.call_ahead is False


@pytest_twisted.inlineCallbacks
def test_reject_carries_reply_message(role):
    """An Access-Reject from FreeRADIUS refuses the send with its Reply-Message."""
    auth = yield role.authorize_send("mallory", "5551112345", "fr-send-2")
    assert not auth.allowed and "account suspended" in auth.reason


@pytest_twisted.inlineCallbacks
def test_stop_acknowledged_and_in_detail_file(role, freeradius):
    """A Stop with the CDR is acknowledged and written to the detail file."""
    auth = yield role.authorize_send("alice", "5551112345", "fr-acct-1")
    session = auth.session("fr-acct-1", started_at=1_700_000_000.0)
    assert (yield role.start(session)) is True
    assert (yield role.stop(session, Cdr(page_count=4, total_seconds=77, remote_csid="FAR END"))) is True
    assert len(role.spool) == 0
    text = "".join(p.read_text(errors="replace") for p in freeradius.radacct.rglob("detail-*"))
    records = [r for r in text.split("\n\n") if 'Acct-Session-Id = "fr-acct-1"' in r]
    (stop,) = [r for r in records if "Acct-Status-Type = Stop" in r]
    for expected in (
        'User-Name = "alice"',
        "FB-Is-Send = Send",
        'FB-Dial-Number = "5551112345"',
        "FB-Page-Count = 4",
        "FB-Total-Seconds = 77",
        'FB-Remote-CSID = "FAR END"',
        "Message-Authenticator = 0x",
    ):
        assert expected in stop, expected
