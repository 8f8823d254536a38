"""FFWS users, contacts and contact groups (§4, §5): permissions and store calls.

Permissions: a regular user reads and changes only their own user record,
contacts and groups; an admin any.  The global contact list
(``global_contact_list``) is readable by every user and writable by admins
(and by every user when ``[web] users_add_global_contacts`` is on).
"""

from __future__ import annotations

import re
from typing import Any

from appliance.web import ffws
from appliance.web.app import Call, Reply, WebApp, xml_reply
from appliance.web.deps import AccountWriter
from appliance.web.model import GLOBAL, Contact, ContactGroup, UserProfile, WebError
from appliance.web.numbers import check_contact

__all__ = ["contact_groups", "contacts", "users"]

_ORDERS = {
    "contacts": ("id", "name", "fax_number", "phone_number", "organization"),
    "contact_groups": ("id", "name", "description"),
}
_FILTERS = {
    "contacts": ("name", "fax_number", "phone_number", "organization"),
    "contact_groups": ("name", "description"),
}


# ------------------------------------------------------------------ users


async def users(app: WebApp, call: Call) -> Reply:
    me = call.identity
    if len(call.segments) > 1:
        raise WebError(404, "no such resource")
    if call.method == "POST" and not call.segments:
        if not me.admin:
            raise WebError(403, "only an admin may add users")
        fields, username, password = ffws.parse_user(call.body)
        if not username:
            raise WebError(400, "the new <user> has no <username>")
        profile = UserProfile(username=username, **fields)
        if await app.run(app.directory.get_user, username) is not None:
            raise WebError(400, f"user {username!r} already exists")
        if password:
            await app.run(_writable(app).add_account, username, password)
            app.on_password_change(username)  # a rejection of the name may be cached
        elif app.accounts is not None and not await app.run(app.accounts.has_account, username):
            raise WebError(400, f"there is no account {username!r} yet: give the new user a <password>")
        await app.run(app.directory.add_user, profile)
        return xml_reply(200, "Created", [ffws.user_element(profile, call.base)])
    if not call.segments:
        raise WebError(404, "name a user: /ffws/v1/users/USERNAME")
    username = call.segments[0]
    if username != me.username and not me.admin:
        raise WebError(403, f"you may not access user {username!r}")
    if call.method == "GET":
        found = await app.run(app.directory.get_user, username)
        if found is None:
            raise WebError(404, f"no user {username!r}")
        return xml_reply(200, "Success", [ffws.user_element(found, call.base)])
    if call.method == "PUT":
        fields, new_name, password = ffws.parse_user(call.body)
        if new_name and new_name != username:
            raise WebError(400, "a user cannot be renamed (<username> differs from the URL)")
        if password:
            _writable(app)
        await app.run(app.directory.update_user, username, fields)
        await _set_password(app, username, password)
        return xml_reply(200, "Modified")
    raise WebError(405, f"{call.method} is not allowed here")


def _writable(app: WebApp) -> AccountWriter:
    """The account writer, or 409 when the accounts live on another RADIUS server."""
    if app.accounts is None:
        raise WebError(
            409,
            "user accounts live on an external RADIUS server: set passwords there "
            "(this service cannot change them); nothing was changed",
        )
    return app.accounts


async def _set_password(app: WebApp, username: str, password: str | None) -> None:
    """Write ``password`` to the account store (creating the account); cached logins of the user are dropped."""
    if not password:
        return
    await app.run(_writable(app).set_password, username, password)
    app.on_password_change(username)


# --------------------------------------------------------------- helpers


def _may_read(call: Call, owner: str) -> bool:
    return owner == GLOBAL or owner == call.identity.username or call.identity.admin


def _may_write(app: WebApp, call: Call, owner: str) -> bool:
    if owner == GLOBAL:
        return call.identity.admin or app.config.users_add_global_contacts
    return owner == call.identity.username or call.identity.admin


async def _owner(app: WebApp, call: Call, write: bool) -> str:
    owner = call.segments[0]
    allowed = _may_write(app, call, owner) if write else _may_read(call, owner)
    if not allowed:
        raise WebError(403, f"you may not {'change' if write else 'view'} the data of {owner!r}")
    if owner != GLOBAL and owner != call.identity.username and await app.run(app.directory.get_user, owner) is None:
        raise WebError(404, f"no user {owner!r}")
    return owner


def _item_id(call: Call) -> int | None:
    if len(call.segments) < 2:
        return None
    if not re.fullmatch(r"[0-9]{1,12}", call.segments[1]):
        raise WebError(404, f"no item {call.segments[1]!r}")
    return int(call.segments[1])


def _paging(call: Call, kind: str) -> dict[str, Any]:
    query = call.query
    order = query.get("order", "id") or "id"
    if order not in _ORDERS[kind]:
        raise WebError(400, f"order must be one of {', '.join(_ORDERS[kind])}, not {order!r}")
    limit: int | None = None
    offset = 0
    try:
        if "limit" in query:
            limit = int(query["limit"])
            offset = int(query.get("offset", "0") or 0)  # honoured only with limit (§5.1)
    except ValueError:
        raise WebError(400, "limit and offset must be whole numbers") from None
    if (limit is not None and limit < 0) or offset < 0:
        raise WebError(400, "limit and offset must not be negative")
    filters = {k: query[k] for k in _FILTERS[kind] if query.get(k)}
    return {"filters": filters, "order": order, "limit": limit, "offset": offset}


# --------------------------------------------------------------- contacts


async def contacts(app: WebApp, call: Call) -> Reply:
    if not call.segments or len(call.segments) > 2:
        raise WebError(404, "name an address book: /ffws/v1/contacts/USERNAME[/ID]")
    item = _item_id(call)
    method = call.method
    if method == "GET":
        owner = await _owner(app, call, write=False)
        if item is None:
            found = await app.run(lambda: app.directory.list_contacts(owner, **_paging(call, "contacts")))
        else:
            one = await app.run(app.directory.get_contact, owner, item)
            if one is None:
                raise WebError(404, f"no contact {item} in {owner!r}")
            found = [one]
        return xml_reply(200, "Success", [ffws.contact_element(c, call.base) for c in found])
    owner = await _owner(app, call, write=True)
    if method == "POST" and item is None:
        fields = ffws.parse_contact(call.body)
        check_contact(fields, app.dialplan)
        contact = await app.run(
            app.directory.add_contact,
            Contact(
                owner=owner,
                name=fields.get("name", ""),
                fax_number=fields.get("fax_number", ""),
                phone_number=fields.get("phone_number", ""),
                organization=fields.get("organization", ""),
            ),
        )
        return xml_reply(200, "Created", [ffws.contact_element(contact, call.base)])
    if method in ("PUT", "POST") and item is not None:
        fields = ffws.parse_contact(call.body)
        check_contact(fields, app.dialplan)
        await app.run(app.directory.update_contact, owner, item, fields)
        return xml_reply(200, "Modified")
    if method == "DELETE" and item is not None:
        await app.run(app.directory.delete_contact, owner, item)
        return xml_reply(200, "Deleted")
    raise WebError(405, f"{method} is not allowed here")


# ------------------------------------------------------------------ groups


async def _check_members(app: WebApp, call: Call, members: tuple[tuple[str, int], ...] | None) -> None:
    if not members:
        return
    for owner, _ in members:
        if not _may_read(call, owner):
            raise WebError(403, f"you may not use contacts of {owner!r}")
    missing = await app.run(app.directory.contacts_exist, members)
    if missing:
        owner, contact_id = missing[0]
        raise WebError(400, f"no contact {owner}/{contact_id}")


async def contact_groups(app: WebApp, call: Call) -> Reply:
    if not call.segments or len(call.segments) > 2:
        raise WebError(404, "name an address book: /ffws/v1/contact_groups/USERNAME[/ID]")
    item = _item_id(call)
    method = call.method
    if method == "GET":
        owner = await _owner(app, call, write=False)
        if item is None:
            found = await app.run(lambda: app.directory.list_groups(owner, **_paging(call, "contact_groups")))
        else:
            one = await app.run(app.directory.get_group, owner, item)
            if one is None:
                raise WebError(404, f"no contact group {item} in {owner!r}")
            found = [one]
        return xml_reply(200, "Success", [ffws.group_element(g, call.base) for g in found])
    owner = await _owner(app, call, write=True)
    if method == "POST" and item is None:
        fields, members = ffws.parse_group(call.body)
        await _check_members(app, call, members)
        group = await app.run(
            app.directory.add_group,
            ContactGroup(
                owner=owner,
                name=fields.get("name", ""),
                description=fields.get("description", ""),
                members=members or (),
            ),
        )
        return xml_reply(200, "Created", [ffws.group_element(group, call.base)])
    if method in ("PUT", "POST") and item is not None:
        fields, members = ffws.parse_group(call.body)
        await _check_members(app, call, members)
        await app.run(app.directory.update_group, owner, item, fields, members)
        return xml_reply(200, "Modified")
    if method == "DELETE" and item is not None:
        await app.run(app.directory.delete_group, owner, item)
        return xml_reply(200, "Deleted")
    raise WebError(405, f"{method} is not allowed here")
