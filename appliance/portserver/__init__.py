"""The port-server role: the RADIUS-client side of sending and receiving.

The session and result types are re-exported here; the Twisted side is
``appliance.portserver.role`` (:class:`~appliance.portserver.role.PortServer`,
``make_portserver``), the ``[portserver]`` section ``appliance.portserver.config``
and the durable Stop spool ``appliance.portserver.spool``.
"""

from __future__ import annotations

from appliance.portserver.role import Cdr, ReceiveRoute, SendAuthorization, Session

__all__ = ["Cdr", "ReceiveRoute", "SendAuthorization", "Session"]
