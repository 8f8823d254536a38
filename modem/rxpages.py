"""Which received page transmissions make up the fax (sans-I/O).

A Class 2 / 2.0 receiver sees, for every page transmission, the page data,
the modem's page status (``+FPTS:``/``+FPS:`` ppr, spec §4.3), the remote's
post-page message (``+FET:`` ppm, §4.1) and the final result of ``+FDR``.
The response to the sender (MCF, RTN, ...) is released by the next
``+FDR``: the modem answers what its ppr says unless the host overwrote it
with ``+FPTS=``/``+FPS=`` first (§7).  In this driver the modem judges
copy quality; the host only ever overrules a positive answer to RTN (its own
check failed, or the page is not one it keeps), never the other way round
(a modem that refuses the override gets the call cancelled rather than confirm
a page the host drops).  So what the host keeps is exactly what it confirmed to
the sender:

* a page is kept only if the modem's status says good (odd ppr: MCF, RTP,
  PIP), the remote ended it with a post-page message and the host's own
  check (if any) passes;
* a rejected transmission is not kept: T.30 without ECM has no page numbers,
  and a sender answered RTN normally sends the same page again, whose
  confirmed copy then takes its place (HylaFAX, efax, mgetty all retransmit);
* data cut off by a carrier loss before the post-page message is a fragment,
  not a page, and is not kept.

:func:`judge_page` decides one transmission; :class:`PageLedger` keeps the
confirmed pages and the transmissions not kept (for diagnostics).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from modem._session_types import ReceivedPage

__all__ = ["Final", "PageLedger", "Verdict", "judge_page"]


class Final(Enum):
    """How the modem ended the page's report: ``OK``, ``ERROR`` or ``NO CARRIER``."""

    OK = "OK"
    ERROR = "ERROR"
    NO_CARRIER = "NO CARRIER"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a transmission is kept, why, and whether the host must ask for RTN.

    ``ask_rtn``: the page is not kept but the modem's own answer would be
    positive (odd or no ppr), so the host writes ``+FPS=2``/``+FPTS=2``
    before releasing the response (only meaningful while the call is up).
    """

    keep: bool
    reason: str
    ask_rtn: bool = False


def judge_page(
    *,
    ppr: int | None,
    ppm: int | None,
    final: Final,
    hangup_normal: bool | None,
    data: bytes = b"",
    check: Callable[[bytes], bool] | None = None,
) -> Verdict:
    """Judge one received page transmission.

    ``ppr``: the page status from ``+FPTS:``/``+FPS:`` (None if the modem gave
    none); ``ppm``: the post-page message from ``+FET:`` (None if the remote
    sent none, e.g. the carrier was lost mid-page); ``hangup_normal``: None
    while the call is up, else whether the hangup report was a normal end;
    ``check``: the host's copy-quality check of the (MSB-first) data.
    """
    modem_positive = ppr is None or ppr & 1 == 1
    if ppm is None:
        return Verdict(False, "incomplete: no post-page message (the call broke off mid-page)", modem_positive)
    if final is Final.ERROR:
        return Verdict(False, "the modem answered ERROR to the page (bad page)", modem_positive)
    if ppr is None:
        # no page status at all: good only if the call did not break
        if final is not Final.OK or hangup_normal is False:
            return Verdict(False, "no page status and the call broke off", False)
    elif not modem_positive:
        return Verdict(False, f"page status {ppr}: the modem answered {_PPR_NAME.get(ppr, 'negative')}", False)
    if check is not None and not check(data):
        return Verdict(False, "the copy-quality check failed", True)
    return Verdict(True, "confirmed")


_PPR_NAME = {0: "PPR", 2: "RTN", 4: "PIN"}


@dataclass
class PageLedger:
    """The confirmed pages of one call, in order, and the transmissions not kept."""

    kept: list[ReceivedPage] = field(default_factory=list)
    dropped: list[ReceivedPage] = field(default_factory=list)

    @property
    def transmissions(self) -> int:
        return len(self.kept) + len(self.dropped)

    def add(self, page: ReceivedPage) -> None:
        (self.kept if page.good else self.dropped).append(page)
