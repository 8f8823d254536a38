"""Golden vectors of spec §7 (E1-E15): decoded with our dictionary, answered by
our handlers, replies checked attribute by attribute and authenticators
computed from a chosen secret."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from radius.codec import decode_reply, decode_request, encode_reply
from radius.handlers import HandlerConfig, handle_access
from radius.model import Code, Verdict
from tests.radius.helpers import SECRET, dictionary, memory_store, response_authenticator, with_password
from tests.radius.vectors import PRINTED_REPLIES, VECTORS

DICT = dictionary()


def _request_bytes(v):
    return with_password(v.request, SECRET, v.password) if v.password else v.request


def _answer(v):
    store = memory_store(v.store)
    try:
        req = decode_request(_request_bytes(v), SECRET, DICT)
        decision = handle_access(req, store, HandlerConfig())
        group = store.get_account("grp")
        return req, decision, group
    finally:
        store.close()


@pytest.mark.parametrize("v", VECTORS, ids=[v.name.split()[0] for v in VECTORS])
def test_request_decodes(v):
    """Each golden request decodes to the command, context and attributes the manual prints."""
    req = decode_request(_request_bytes(v), SECRET, DICT)
    assert req.code == Code.ACCESS_REQUEST
    assert req.id == v.reply_id
    assert req.get("FB-Command") == v.command
    assert req.get("FB-Context") == v.context
    for name, value in v.request_attrs.items():
        assert req.get(name) == value, name
    if v.password:
        assert req.password == v.password


@pytest.mark.parametrize("v", VECTORS, ids=[v.name.split()[0] for v in VECTORS])
def test_reply_attributes(v):
    """Our reply carries Message-Authenticator first, then exactly the manual's attributes."""
    req, decision, group = _answer(v)
    expected = [(name, group.last_modified if value == "GROUP" else value) for name, value in v.reply_attrs]
    assert decision.verdict is (Verdict.ACCEPT if v.reply_code == 2 else Verdict.REJECT)
    reply = encode_reply(Code(v.reply_code), req, decision.attributes, SECRET, DICT)
    code, ident, attrs = decode_reply(reply, DICT)
    assert code == v.reply_code and ident == v.reply_id
    assert attrs[0][0] == "Message-Authenticator"
    assert attrs[1:] == expected
    # Response Authenticator = MD5(Code|Id|Length|RequestAuth|Attributes|Secret)
    assert reply[4:20] == response_authenticator(reply, req.authenticator, SECRET)
    # Message-Authenticator = HMAC-MD5 over the reply with the request authenticator, MA zeroed.
    zeroed = reply[:4] + req.authenticator + reply[20:22] + bytes(16) + reply[38:]
    assert reply[22:38] == hmac.new(SECRET, zeroed, hashlib.md5).digest()


@pytest.mark.parametrize("name", sorted(PRINTED_REPLIES))
def test_printed_reply_bytes(name):
    """Without Message-Authenticator our reply is the manual's printed reply byte for byte (bar the authenticator)."""
    v = next(v for v in VECTORS if v.name == name)
    req, decision, _ = _answer(v)
    reply = encode_reply(Code(v.reply_code), req, decision.attributes, SECRET, DICT, message_authenticator=False)
    printed = PRINTED_REPLIES[name]
    assert reply[:4] == bytes((printed[0], v.reply_id)) + printed[2:4]
    assert reply[20:] == printed[20:]


@pytest.mark.parametrize("v", VECTORS, ids=[v.name.split()[0] for v in VECTORS])
def test_read_model_gives_the_golden_decisions(v):
    """The in-memory read model (what the server answers from) decides every vector as the SQL store does."""
    from radius.feed import ReadModelFeed

    store = memory_store(v.store)
    try:
        feed = ReadModelFeed(None, store, None)
        feed.load()
        req = decode_request(_request_bytes(v), SECRET, DICT)
        from_model = handle_access(req, feed.model, HandlerConfig())
        assert from_model == handle_access(req, store, HandlerConfig())
        assert from_model.verdict is (Verdict.ACCEPT if v.reply_code == 2 else Verdict.REJECT)
    finally:
        store.close()
