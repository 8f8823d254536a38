"""The FFWS users API changes real accounts: a user an admin adds can log in
at once, a changed password takes effect at once (old one fails, new one
works), and when the accounts live on another RADIUS server passwords are
refused with 409 and nothing changes."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred

from appliance.config import Secret, default_config
from appliance.config.web import Accounts
from appliance.portserver.config import PortServerConfig, PortServerServer
from appliance.web.accounts import accounts_are_local
from tests.web.harness import ADMIN, WebHarness


def message(response: Any) -> str:
    return ET.fromstring(response.content).findtext("message") or ""


def user_xml(username: str, password: str | None = None, name: str = "") -> str:
    secret = f"<password>{password}</password>" if password is not None else ""
    return f"<user><username>{username}</username><name>{name}</name>{secret}</user>"


@pytest_twisted.ensureDeferred
async def test_added_user_logs_in_at_once(h: WebHarness) -> None:
    """POST /users with a password creates the account: the new user logs in immediately."""
    assert (await h.request("GET", "/ffws/v1/users/erin", auth=("erin", "erin-pw"))).status_code == 401
    response = await h.xml("POST", "/ffws/v1/users", user_xml("erin", "erin-pw", "Erin"))
    assert response.status_code == 200 and message(response) == "Created"
    mine = await h.request("GET", "/ffws/v1/users/erin", auth=("erin", "erin-pw"))
    assert mine.status_code == 200 and ET.fromstring(mine.content).findtext("user/name") == "Erin"
    account = await h.app.run(h.cdrs.get_account, "erin")
    assert account is not None and "erin-pw" not in account.password_hash


@pytest_twisted.ensureDeferred
async def test_password_change_takes_effect_at_once(h: WebHarness) -> None:
    """After PUT with a new password the old one fails and the new one works, with no cache delay."""
    await h.xml("POST", "/ffws/v1/users", user_xml("frank", "old-pw"))
    old = ("frank", "old-pw")
    assert (await h.request("GET", "/ffws/v1/users/frank", auth=old)).status_code == 200  # now cached
    response = await h.xml("PUT", "/ffws/v1/users/frank", user_xml("frank", "new-pw"), auth=old)
    assert response.status_code == 200 and message(response) == "Modified"
    assert (await h.request("GET", "/ffws/v1/users/frank", auth=old)).status_code == 401
    assert (await h.request("GET", "/ffws/v1/users/frank", auth=("frank", "new-pw"))).status_code == 200
    response = await h.xml("PUT", "/ffws/v1/users/frank", user_xml("frank", "admin-set"), auth=ADMIN)
    assert response.status_code == 200
    assert (await h.request("GET", "/ffws/v1/users/frank", auth=("frank", "admin-set"))).status_code == 200


@pytest_twisted.ensureDeferred
async def test_new_user_needs_a_password(h: WebHarness) -> None:
    """POST /users without a password for a name with no account is 400 and stores nothing; an existing
    profile is not overwritten (and its password not touched)."""
    response = await h.xml("POST", "/ffws/v1/users", user_xml("gina"))
    assert response.status_code == 400 and "<password>" in message(response)
    assert await h.app.run(h.directory.get_user, "gina") is None
    response = await h.xml("POST", "/ffws/v1/users", user_xml("alice", "hijacked"))
    assert response.status_code == 400 and "already exists" in message(response)
    assert (await h.request("GET", "/ffws/v1/users/alice", auth=("alice", "alice-pw"))).status_code == 200


@pytest.fixture
def external(tmp_path: Path, radius_server: Any) -> Iterator[WebHarness]:
    """A web service whose accounts live on a RADIUS server it cannot write (no AccountWriter)."""
    harness = WebHarness(tmp_path, radius_server, local_accounts=False)
    yield harness
    pytest_twisted.blockon(Deferred.fromCoroutine(harness.close()).addTimeout(30, reactor))


@pytest_twisted.ensureDeferred
async def test_external_accounts_refuse_passwords(external: WebHarness) -> None:
    """With external accounts a password in POST/PUT is 409 with a message, and nothing is changed."""
    h = external
    response = await h.xml("POST", "/ffws/v1/users", user_xml("hank", "pw", "Hank"))
    assert response.status_code == 409 and "external RADIUS" in message(response)
    assert await h.app.run(h.directory.get_user, "hank") is None
    assert await h.app.run(h.cdrs.get_account, "hank") is None
    alice = ("alice", "alice-pw")
    response = await h.xml("PUT", "/ffws/v1/users/alice", user_xml("alice", "other", "Changed"), auth=alice)
    assert response.status_code == 409
    profile = await h.app.run(h.directory.get_user, "alice")
    assert profile is not None and profile.name != "Changed"
    assert (await h.request("GET", "/ffws/v1/users/alice", auth=alice)).status_code == 200
    response = await h.xml("POST", "/ffws/v1/users", user_xml("hank", None, "Hank"))  # a profile only
    assert response.status_code == 200 and message(response) == "Created"


def test_accounts_are_local_from_config() -> None:
    """Local when we answer RADIUS and every port-server server is our listener; else external; config wins."""
    secret = Secret("s")
    base = default_config("/tmp/x", client_secret=secret)
    ours = PortServerServer("127.0.0.1", base.radius.auth_port, base.radius.acct_port, secret)
    other = PortServerServer("10.0.0.5", 1812, 1813, secret)
    assert accounts_are_local(dataclasses.replace(base, portserver=PortServerConfig(servers=(ours,))))
    assert not accounts_are_local(dataclasses.replace(base, portserver=PortServerConfig(servers=(other, ours))))
    moved = dataclasses.replace(ours, auth_port=11812)
    assert not accounts_are_local(dataclasses.replace(base, portserver=PortServerConfig(servers=(moved,))))
    no_radius = dataclasses.replace(
        base, radius=dataclasses.replace(base.radius, clients=()), portserver=PortServerConfig(servers=(ours,))
    )
    assert not accounts_are_local(no_radius)
    assert accounts_are_local(no_radius, Accounts.LOCAL) and not accounts_are_local(base, Accounts.EXTERNAL)
    wildcard = dataclasses.replace(
        base, radius=dataclasses.replace(base.radius, listen="0.0.0.0"), portserver=PortServerConfig(servers=(ours,))
    )
    assert accounts_are_local(wildcard)
