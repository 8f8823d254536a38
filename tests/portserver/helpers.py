"""Shared pieces of the port-server tests: a scripted RADIUS server for the
pure client core, and a role wired to real servers over loopback."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from pathlib import Path

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IUDPTransport
from zope.interface import implementer

from appliance.portserver.role import PortServer
from appliance.portserver.spool import StopSpool
from radius.client import RadiusClient, ServerSpec
from radius.codec import decode_request, encode_reply
from radius.model import Code, Value
from tests.radius.helpers import dictionary

DICT = dictionary()


@implementer(IUDPTransport)
class FakeUDP:
    """A UDP transport that records what is written: ``written`` is a list of (datagram, address)."""

    def __init__(self) -> None:
        self.written: list[tuple[bytes, tuple[str, int]]] = []

    def write(self, packet: bytes, addr: tuple[str, int] | None = None) -> None:
        assert addr is not None, "the RADIUS client always names the server"
        self.written.append((packet, addr))

    def connect(self, host: str, port: int) -> None:
        raise NotImplementedError

    def getHost(self) -> IPv4Address | IPv6Address:
        raise NotImplementedError

    def stopListening(self) -> None:
        pass

    def setBroadcastAllowed(self, enabled: bool) -> None:
        raise NotImplementedError

    def getBroadcastAllowed(self) -> bool:
        return False


def reply_to(
    datagram: bytes, secret: bytes, code: Code, attrs: Sequence[tuple[str, Value]] = (), ma: bool = True
) -> bytes:
    """A correct reply to ``datagram`` as a RADIUS server with ``secret`` would send it."""
    request = decode_request(datagram, secret, DICT)
    return encode_reply(code, request, list(attrs), secret, DICT, message_authenticator=ma)


def with_bad_ma(reply: bytes, request_auth: bytes, secret: bytes) -> bytes:
    """``reply`` with a wrong Message-Authenticator but a valid Response Authenticator."""
    assert reply[20] == 80, "Message-Authenticator must be the first attribute"
    body = bytearray(reply)
    body[22:38] = bytes(16)
    body[4:20] = hashlib.md5(bytes(body[:4]) + request_auth + bytes(body[20:]) + secret).digest()
    return bytes(body)


def make_role(
    reactor, servers: list[ServerSpec], spool_dir: Path, *, timeout: float = 1.0, retries: int = 1, seed: int = 7, **kw
) -> tuple[PortServer, RadiusClient]:
    """A PortServer over a listening RadiusClient on the given reactor."""
    client = RadiusClient(
        reactor, servers, DICT, random.Random(seed).randbytes, timeout=timeout, retries=retries, dead_time=30.0
    )
    client.listen("127.0.0.1")
    role = PortServer(
        client, reactor, StopSpool(spool_dir), random.Random(seed), DICT, nas_identifier="test-appliance", **kw
    )
    return role, client
