"""FFWS users, contacts, the global contact list and contact groups over
HTTP, with their permission rules (spec §4, §5)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest_twisted

from tests.web.harness import ADMIN, ALICE, BOB, WebHarness

USER_EDIT = """<user>
  <name>Edit User</name>
  <username>alice</username>
  <password>alice-pw</password>
  <email_address>admin@Example.com</email_address>
  <phone_number>218-555-3333</phone_number>
  <fax_number>218-555-3334</fax_number>
  <organization>Example Org</organization>
  <priority>1</priority>
  <max_attempts>2</max_attempts>
  <interval>600</interval>
  <receipt>never</receipt>
  <receipt_attachment>none</receipt_attachment>
</user>"""


def parse(response: object) -> ET.Element:
    root = ET.fromstring(response.content)  # type: ignore[attr-defined]
    assert root.tag == "response"
    return root


def contact_xml(name: str, fax: str = "218-555-0000", org: str = "") -> str:
    return (
        f"<contact><name>{name}</name><fax_number>{fax}</fax_number><phone_number></phone_number>"
        f"<organization>{org}</organization></contact>"
    )


@pytest_twisted.ensureDeferred
async def test_user_view_rules(h: WebHarness) -> None:
    """A user reads their own record (200), not another's (403); an admin reads any; unknown is 404."""
    response = await h.request("GET", "/ffws/v1/users/alice", auth=ALICE)
    assert response.status_code == 200
    user = parse(response).find("user")
    assert user is not None and user.findtext("username") == "alice"
    assert user.findtext("user_url") == f"{h.base}/ffws/v1/users/alice"
    assert [c.tag for c in user][:3] == ["user_url", "name", "username"]
    assert user.find("password") is None
    assert (await h.request("GET", "/ffws/v1/users/admin", auth=ALICE)).status_code == 403
    assert (await h.request("GET", "/ffws/v1/users/alice", auth=ADMIN)).status_code == 200
    assert (await h.request("GET", "/ffws/v1/users/ghost", auth=ADMIN)).status_code == 404


@pytest_twisted.ensureDeferred
async def test_user_add_and_edit(h: WebHarness) -> None:
    """Admins add users (200 Created, 403 for others, 400 for bad XML); the guide's edit example gives Modified."""
    body = "<user><username>dave</username><name>Dave</name><password>pw</password><priority>2</priority></user>"
    assert (await h.xml("POST", "/ffws/v1/users", body, auth=ALICE)).status_code == 403
    response = await h.xml("POST", "/ffws/v1/users", body)
    assert response.status_code == 200 and parse(response).findtext("message") == "Created"
    assert parse(response).findtext("user/priority") == "2"
    assert (await h.xml("POST", "/ffws/v1/users", body)).status_code == 400  # taken
    assert (await h.xml("POST", "/ffws/v1/users", "<user><name>x</name>")).status_code == 400
    await h.request("GET", "/ffws/v1/users/alice", auth=ALICE)  # profile exists once alice logged in
    response = await h.xml("PUT", "/ffws/v1/users/alice", USER_EDIT, auth=ALICE)
    assert response.status_code == 200 and parse(response).findtext("message") == "Modified"
    user = parse(await h.request("GET", "/ffws/v1/users/alice", auth=ALICE)).find("user")
    assert user is not None and user.findtext("max_attempts") == "2" and user.findtext("interval") == "600"
    assert (await h.xml("PUT", "/ffws/v1/users/admin", USER_EDIT, auth=ALICE)).status_code == 403
    assert (await h.xml("PUT", "/ffws/v1/users/ghost", USER_EDIT)).status_code in (400, 404)
    assert (await h.xml("PUT", "/ffws/v1/users/ghost", "<user><name>G</name></user>")).status_code == 404


@pytest_twisted.ensureDeferred
async def test_user_defaults_apply_to_faxes(h: WebHarness) -> None:
    """A fax that omits send options takes the user's defaults."""
    from tests.web.harness import schedule_xml

    await h.request("GET", "/ffws/v1/users/alice", auth=ALICE)
    await h.xml("PUT", "/ffws/v1/users/alice", USER_EDIT, auth=ALICE)
    response = await h.xml("POST", "/ffws/v1/ofax", schedule_xml(), auth=ALICE)
    entry = parse(response).find("fax_entry")
    assert entry is not None
    assert (
        entry.findtext("priority"),
        entry.findtext("max_tries"),
        entry.findtext("try_interval"),
        entry.findtext("receipt"),
    ) == ("1", "2", "600", "never")


@pytest_twisted.ensureDeferred
async def test_contacts_crud(h: WebHarness) -> None:
    """Add (200 Created with contact_url), edit by PUT or POST (Modified), delete (Deleted), then 404."""
    response = await h.xml("POST", "/ffws/v1/contacts/alice", contact_xml("Ann"), auth=ALICE)
    assert response.status_code == 200 and parse(response).findtext("message") == "Created"
    url = parse(response).findtext("contact/contact_url") or ""
    assert url.startswith(f"{h.base}/ffws/v1/contacts/alice/")
    path = url[len(h.base) :]
    response = await h.xml("PUT", path, contact_xml("Ann B"), auth=ALICE)
    assert response.status_code == 200 and parse(response).findtext("message") == "Modified"
    assert (await h.xml("POST", path, contact_xml("Ann C"), auth=ALICE)).status_code == 200
    assert parse(await h.request("GET", path, auth=ALICE)).findtext("contact/name") == "Ann C"
    response = await h.request("DELETE", path, auth=ALICE)
    assert response.status_code == 200 and parse(response).findtext("message") == "Deleted"
    assert (await h.request("GET", path, auth=ALICE)).status_code == 404
    assert (await h.request("DELETE", path, auth=ALICE)).status_code == 404


@pytest_twisted.ensureDeferred
async def test_contacts_permissions(h: WebHarness) -> None:
    """Another user's book is 403 (read and write); an admin may use it; an unknown user's is 404."""
    await h.request("GET", "/ffws/v1/users/bob", auth=BOB)
    assert (await h.request("GET", "/ffws/v1/contacts/bob", auth=ALICE)).status_code == 403
    assert (await h.xml("POST", "/ffws/v1/contacts/bob", contact_xml("X"), auth=ALICE)).status_code == 403
    assert (await h.xml("POST", "/ffws/v1/contacts/bob", contact_xml("X"), auth=ADMIN)).status_code == 200
    assert (await h.request("GET", "/ffws/v1/contacts/bob", auth=ADMIN)).status_code == 200
    assert (await h.request("GET", "/ffws/v1/contacts/ghost", auth=ADMIN)).status_code == 404
    assert (await h.xml("POST", "/ffws/v1/contacts/alice", "<contact><name>x", auth=ALICE)).status_code == 400


@pytest_twisted.ensureDeferred
async def test_contacts_paging_search_order(h: WebHarness) -> None:
    """limit/offset page, substring filters are ANDed, order sorts."""
    for name, org in (("Carl", "Acme"), ("Anna", "Beta"), ("Bert", "Acme"), ("Ann-Marie", "Acme")):
        await h.xml("POST", "/ffws/v1/contacts/alice", contact_xml(name, org=org), auth=ALICE)

    async def names(query: str) -> list[str]:
        response = await h.request("GET", "/ffws/v1/contacts/alice" + query, auth=ALICE)
        assert response.status_code == 200
        return [c.findtext("name") or "" for c in parse(response).findall("contact")]

    assert await names("") == ["Carl", "Anna", "Bert", "Ann-Marie"]
    assert await names("?order=name") == ["Ann-Marie", "Anna", "Bert", "Carl"]
    assert await names("?order=name&limit=2&offset=1") == ["Anna", "Bert"]
    assert await names("?offset=2") == ["Carl", "Anna", "Bert", "Ann-Marie"]  # offset needs limit
    assert await names("?name=ann") == ["Anna", "Ann-Marie"]
    assert await names("?name=ann&organization=acme") == ["Ann-Marie"]
    assert (await h.request("GET", "/ffws/v1/contacts/alice?order=password", auth=ALICE)).status_code == 400
    assert (await h.request("GET", "/ffws/v1/contacts/alice?limit=x", auth=ALICE)).status_code == 400


@pytest_twisted.ensureDeferred
async def test_global_contact_list(h: WebHarness) -> None:
    """Everyone reads the global list; only admins write it."""
    path = "/ffws/v1/contacts/global_contact_list"
    assert (await h.xml("POST", path, contact_xml("Shared"), auth=ALICE)).status_code == 403
    response = await h.xml("POST", path, contact_xml("Shared"), auth=ADMIN)
    assert response.status_code == 200
    url = parse(response).findtext("contact/contact_url") or ""
    assert "/contacts/global_contact_list/" in url
    listing = parse(await h.request("GET", path, auth=ALICE))
    assert [c.findtext("name") for c in listing.findall("contact")] == ["Shared"]
    assert (await h.request("GET", url[len(h.base) :], auth=BOB)).status_code == 200


@pytest_twisted.ensureDeferred
async def test_contact_groups(h: WebHarness) -> None:
    """Create a group with personal and global members, view, edit (members kept or replaced), delete."""
    a = parse(await h.xml("POST", "/ffws/v1/contacts/alice", contact_xml("A"), auth=ALICE)).findtext(
        "contact/contact_url"
    )
    b = parse(await h.xml("POST", "/ffws/v1/contacts/alice", contact_xml("B"), auth=ALICE)).findtext(
        "contact/contact_url"
    )
    g = parse(await h.xml("POST", "/ffws/v1/contacts/global_contact_list", contact_xml("G"), auth=ADMIN)).findtext(
        "contact/contact_url"
    )
    body = (
        f"<contact_group><name>g one</name><description>g one</description><contact>{a}</contact>"
        f"<contact>{b}</contact><contact>{g}</contact></contact_group>"
    )
    response = await h.xml("POST", "/ffws/v1/contact_groups/alice", body, auth=ALICE)
    assert response.status_code == 200 and parse(response).findtext("message") == "Created"
    group = parse(response).find("contact_group")
    assert group is not None and [c.text for c in group.findall("contact")] == [a, b, g]
    path = (group.findtext("contact_group_url") or "")[len(h.base) :]
    assert path.startswith("/ffws/v1/contact_groups/alice/")
    edit = "<contact_group><name>renamed</name><description>d</description></contact_group>"
    response = await h.xml("PUT", path, edit, auth=ALICE)
    assert response.status_code == 200 and parse(response).findtext("message") == "Modified"
    shown = parse(await h.request("GET", path, auth=ALICE)).find("contact_group")
    assert shown is not None and shown.findtext("name") == "renamed" and len(shown.findall("contact")) == 3
    await h.xml("PUT", path, f"<contact_group><contact>{b}</contact></contact_group>", auth=ALICE)
    listing = parse(await h.request("GET", "/ffws/v1/contact_groups/alice?name=ren", auth=ALICE))
    assert [[c.text for c in x.findall("contact")] for x in listing.findall("contact_group")] == [[b]]
    assert (await h.request("GET", "/ffws/v1/contact_groups/alice", auth=BOB)).status_code == 403
    bad = "<contact_group><name>x</name><contact>https://h/ffws/v1/contacts/alice/999</contact></contact_group>"
    assert (await h.xml("POST", "/ffws/v1/contact_groups/alice", bad, auth=ALICE)).status_code == 400
    response = await h.request("DELETE", path, auth=ALICE)
    assert response.status_code == 200 and parse(response).findtext("message") == "Deleted"
    assert (await h.request("GET", path, auth=ALICE)).status_code == 404
    assert (await h.request("GET", "/ffws/v1/contact_groups/global_contact_list", auth=BOB)).status_code == 200
