"""The port-server role: the RADIUS-client side of sending and receiving.

* ``model``: sessions, CDRs, send authorizations, receive routes (pure data);
* ``planner``: the rules: what a reply means, failover accounts, load-balance
  group order, accounting attributes (pure);
* ``role``: :class:`~appliance.portserver.role.PortServer`, the Twisted adapter,
  and ``make_portserver``;
* ``config``: the ``[portserver]`` section; ``spool``: the durable Stop spool.

The data types are re-exported here.
"""

from __future__ import annotations

from appliance.portserver.model import (
    LOAD_BALANCE_GROUPS,
    AccountType,
    Cdr,
    Failover,
    ReceiveRoute,
    SendAuthorization,
    Session,
    TransferType,
)

__all__ = [
    "LOAD_BALANCE_GROUPS",
    "AccountType",
    "Cdr",
    "Failover",
    "ReceiveRoute",
    "SendAuthorization",
    "Session",
    "TransferType",
]
