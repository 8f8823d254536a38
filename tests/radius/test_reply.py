"""The client's verified Reply answers lookups by A member or by wire name alike."""

from __future__ import annotations

from radius.client import Reply
from radius.model import A, Code


def test_reply_get_accepts_enum_members_and_names():
    """get/get_all/get_int/get_str take an A member or its wire name, with the same answer."""
    reply = Reply(
        Code.ACCESS_ACCEPT,
        (("User-Name", "alice"), ("FB-DID", "5035550100"), ("FB-DID", "5035550101"), ("FB-Account-Type", 8)),
        "primary",
    )
    assert reply.get(A.USER_NAME) == reply.get("User-Name") == "alice"
    assert reply.get_all(A.FB_DID) == reply.get_all("FB-DID") == ["5035550100", "5035550101"]
    assert reply.get_int(A.FB_ACCOUNT_TYPE) == 8 and reply.get_str(A.FB_ACCOUNT_TYPE) == "8"
    assert reply.get(A.FB_SND_ANI) is None and reply.get(A.FB_SND_ANI, "x") == "x"
    assert reply.get_int(A.USER_NAME) is None
