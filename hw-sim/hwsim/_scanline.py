"""Minimum scan-line time of T.4 1-D/2-D pages without ECM (pure).

T.4 §4.1.4 / T.30 DIS/DCS bits 21-23: a receiver may need each *total coded
scan line* (the line's code, fill, and the EOL that ends it) to take at
least a minimum time on the line; the sender pads short lines with fill
(0 bits before the EOL).  In Class 2/2.0 the modem does this padding itself
at the DCS value it reports in ``+FCS``/``+FDCS`` (the DTE's page data stay
as they are).  The value is the receiver's choice (its DIS); with ECM the
minimum scan-line time is 0 ms (T.4 Annex A: frames, not lines, are timed),
and MMR pages (ECM only) have no EOLs to pad.

:class:`ScanLines` follows the page data as they go to the line and gives
the fill bits each completed line needs.  Not scan lines: the EOL that
starts the page, and the EOLs of RTC after its first (units of 12 or 13
bits: no coded line of 1,728 pels is that short, a 1-D all-white line being
17 bits and a 2-D one 2 bits besides its EOL and tag bit).
"""

from __future__ import annotations

import re

from ._page import transmission_bits

# T.32 Table 21 / +FCC ``st``: minimum scan-line time in ms at normal and at fine resolution
MIN_SCAN_MS = {0: (0, 0), 1: (5, 5), 2: (10, 5), 3: (10, 10), 4: (20, 10), 5: (20, 20), 6: (40, 20), 7: (40, 40)}
NOT_A_LINE_BITS = 13  # an EOL, or EOL + tag bit: consecutive EOLs (RTC)
_EOL = re.compile("0{11}1")


def min_line_bits(st: int, fine: bool, bps: int) -> int:
    """Bits a total coded scan line must at least take at ``bps`` for DCS ``st``."""
    ms = MIN_SCAN_MS.get(st, (0, 0))[1 if fine else 0]
    return -(-bps * ms // 1000)


class ScanLines:
    """Fill needed to meet the minimum scan-line time, line by line, as data go out."""

    def __init__(self, min_bits: int) -> None:
        self.min_bits = min_bits
        self.lines = 0  # coded lines seen
        self.fill_bits = 0  # fill the modem adds for them
        self._since = 0  # bits since the end of the last EOL
        self._zeros = 0  # 0 bits at the end of what was seen (an EOL may span two pieces)
        self._eols = 0

    def feed(self, data: bytes) -> int:
        """Page data (wire order) going to the line; the fill they need (bits)."""
        bits = transmission_bits(data)
        if not bits or self.min_bits <= 0:
            return 0
        carried = "0" * min(self._zeros, 11)
        added, last, first = 0, 0, True
        for match in _EOL.finditer(carried + bits):
            end = match.end() - len(carried)  # just after the EOL's 1, in ``bits``
            unit = self._since + end if first else end - last
            first, last = False, end
            self._eols += 1
            if self._eols == 1 or unit <= NOT_A_LINE_BITS:
                continue
            self.lines += 1
            added += max(0, self.min_bits - unit)
        self._since = self._since + len(bits) if first else len(bits) - last
        stripped = bits.rstrip("0")
        self._zeros = len(bits) - len(stripped) if stripped else self._zeros + len(bits)
        self.fill_bits += added
        return added
