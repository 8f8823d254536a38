"""Thousands of malformed datagrams thrown at the running server while valid
requests keep being answered correctly (hypothesis)."""

from __future__ import annotations

import os
import socket
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radius.codec import decode_reply, encode_request, verify_reply
from radius.model import Code
from tests.radius.helpers import dictionary
from tests.radius.server_process import running

DICT = dictionary()
SECRET = "fuzz-secret-0123456"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    dataset = {
        "accounts": [{"name": "alice", "snd_ani": "5035550100"}],
        "dids": [{"did": "5035551000", "account": "alice"}],
    }
    yield from running(tmp_path_factory.mktemp("fuzz"), dataset, secret=SECRET)


@pytest.fixture(scope="module")
def sockets():
    junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    valid = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    valid.settimeout(3)
    yield junk, valid
    junk.close()
    valid.close()


def valid_request(ident: int) -> bytes:
    return encode_request(
        Code.ACCESS_REQUEST,
        ident,
        [("FB-Command", 2), ("FB-Context", 4), ("User-Name", "5035551000")],
        SECRET.encode(),
        DICT,
        authenticator=os.urandom(16),
    )


BASE = valid_request(1)

attribute = st.tuples(st.integers(0, 255), st.binary(max_size=40)).map(
    lambda t: bytes((t[0], min(len(t[1]) + 2, 255))) + t[1]
)
bad_length_attr = st.tuples(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=20)).map(
    lambda t: bytes((t[0], t[1])) + t[2]
)
vsa = st.tuples(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=30)).map(
    lambda t: bytes((26, min(len(t[2]) + 8, 255))) + b"\x00\x00\x77\xe6" + bytes((t[0], t[1])) + t[2]
)
looping_vsa = st.integers(0, 255).map(lambda t: b"\x1a\x08\x00\x00\x77\xe6" + bytes((t, 0)))


@st.composite
def malformed(draw):
    kind = draw(st.sampled_from(["random", "structured", "flip", "truncate", "length"]))
    if kind == "random":
        return draw(st.binary(max_size=300))
    if kind == "flip":
        data = bytearray(BASE)
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
        return bytes(data)
    if kind == "truncate":
        return BASE[: draw(st.integers(0, len(BASE) - 1))]
    if kind == "length":
        n = draw(st.integers(0, 0xFFFF))
        return BASE[:2] + struct.pack("!H", n) + BASE[4:]
    code = draw(st.sampled_from([1, 2, 3, 4, 5, 11, 12, 40, 255]))
    attrs = b"".join(draw(st.lists(st.one_of(attribute, bad_length_attr, vsa, looping_vsa), max_size=8)))
    length = 20 + len(attrs) if draw(st.booleans()) else draw(st.integers(0, 4096))
    return struct.pack("!BBH", code, draw(st.integers(0, 255)), length & 0xFFFF) + os.urandom(16) + attrs


counter = {"n": 0}


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(junk=malformed(), port=st.sampled_from(["auth", "acct"]))
def test_malformed_flood_does_not_disturb_valid_requests(server, sockets, junk, port):
    """Malformed datagrams are dropped, and a valid request sent in between is answered correctly."""
    junk_sock, valid_sock = sockets
    junk_sock.sendto(junk, (server.host, server.auth_port if port == "auth" else server.acct_port))
    counter["n"] += 1
    if counter["n"] % 25:
        return
    ident = counter["n"] // 25 % 256
    request = valid_request(ident)
    valid_sock.sendto(request, (server.host, server.auth_port))
    while True:
        reply, _ = valid_sock.recvfrom(4096)
        code, rid, attrs = decode_reply(reply, DICT)
        if rid == ident:
            break
    assert code == Code.ACCESS_ACCEPT
    assert verify_reply(reply, request[4:20], SECRET.encode())
    assert ("User-Name", "alice") in attrs
    assert server.process.poll() is None


def test_server_survived_and_logged_no_tracebacks(server, sockets):
    """After the flood the server still runs, with no internal errors logged."""
    assert server.process.poll() is None
    log = server.log()
    assert "Traceback" not in log and "internal error" not in log
    assert "malformed packet" in log or "dropped:" in log  # drops are logged (rate-limited)
