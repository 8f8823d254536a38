"""Listening with SO_REUSEPORT: several worker processes on one UDP port."""

from __future__ import annotations

import socket
from typing import Any

from twisted.internet.error import CannotListenError
from twisted.internet.protocol import DatagramProtocol

__all__ = ["listen_reuseport", "probe_port"]


def _family(interface: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in interface else socket.AF_INET


def listen_reuseport(reactor: Any, port: int, protocol: DatagramProtocol, interface: str) -> Any:
    """Listen on ``interface:port`` with SO_REUSEPORT, so that several processes
    share the port; the kernel hands each a fixed share of the peers (by a hash
    of source and destination address and port), so a client's retransmission
    reaches the worker that saw the original.  Raises CannotListenError."""
    family = _family(interface)
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((interface, port))
        sock.setblocking(False)
        return reactor.adoptDatagramPort(sock.fileno(), family, protocol)
    except OSError as exc:
        raise CannotListenError(interface, port, exc) from None
    finally:
        sock.close()  # the reactor holds its own descriptor


def probe_port(interface: str, port: int) -> int:
    """Bind ``interface:port`` (SO_REUSEPORT) and release it: the port number
    (a free one for 0); CannotListenError when it cannot be bound."""
    with socket.socket(_family(interface), socket.SOCK_DGRAM) as sock:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((interface, port))
        except OSError as exc:
            raise CannotListenError(interface, port, exc) from None
        return int(sock.getsockname()[1])
