"""The real ``faxappliance radius`` process under a flood of requests whose
Reject echoes a long non-ASCII address: every one is answered and the log
stays small."""

from __future__ import annotations

import os
import socket

import pytest

from radius.codec import decode_reply, encode_request, verify_reply
from radius.model import Code
from tests.radius.helpers import dictionary
from tests.radius.server_process import running

DICT = dictionary()
REQUESTS = 600


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from running(
        tmp_path_factory.mktemp("flood"), {"accounts": [{"name": "alice"}]}, extra_config="decision_cache_seconds = 0\n"
    )


def test_flood_of_long_non_ascii_rejects(server):
    """600 Get-Account-From-Sender-Email-Address lookups of a 120-character ß address (a 262-byte
    Reply-Message before cutting), 50 in flight at a time: all answered with a verified reject,
    and the server's log grows by less than 4 KB."""
    secret = server.secret.encode()
    before = len(server.log())
    replies = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.connect((server.host, server.auth_port))
        sent = {}
        for start in range(0, REQUESTS, 50):
            for i in range(start, start + 50):
                ident = i % 256
                auth = os.urandom(16)
                sent[ident] = auth
                s.send(
                    encode_request(
                        Code.ACCESS_REQUEST,
                        ident,
                        [("FB-Command", 3), ("FB-Context", 5), ("FB-Snd-Email", f"{i:03d}" + "ß" * 120)],
                        secret,
                        DICT,
                        authenticator=auth,
                    )
                )
            for _ in range(50):
                data = s.recv(4096)
                assert verify_reply(data, sent[data[1]], secret)
                replies[(start, data[1])] = data
    assert len(replies) == REQUESTS
    code, _, attrs = decode_reply(next(iter(replies.values())), DICT)
    (message,) = [v for n, v in attrs if n == "Reply-Message"]
    assert code == Code.ACCESS_REJECT and message.startswith("no account for sender ") and len(message.encode()) <= 253
    assert "\ufffd" not in message
    assert len(server.log()) - before < 4096, server.log()[before:][:2000]
