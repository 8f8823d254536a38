"""T.30 phase timing of the simulated modem (pure).

A real fax call spends most of its time outside the page data: phase A/B
(answer tone, CSI/DIS, then TSI/DCS, the training check TCF and CFR) and the
post-page exchanges (MPS/EOP and MCF, each a V.21 frame at 300 bit/s with
turnarounds), then DCN.  With ``ModemConfig.t30`` set the simulator spends
that time too, so a paced session takes about as long as a real one
(reference: efax -> iaxmodem -> iaxmodem -> efax at V.17, :data:`REFERENCE`).
Times are multiplied by ``ModemConfig.time_scale``; without ``t30`` every
step happens at once (tests, ``--fast``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class T30Timing:
    """Seconds each step of a call takes on a real line."""

    connect: float = 7.0  # dial -> answer -> CED/CNG -> CSI/DIS reported (4 s to connect, 3 s of DIS)
    dcs: float = 4.0  # +FDT -> TSI/DCS, TCF (1.5 s of training check), CFR -> CONNECT
    page_gap: float = 0.3  # next page without retraining: V.17 short train -> CONNECT
    ppm: float = 1.0  # MPS/EOP frame after the page data
    ppr: float = 1.0  # MCF/RTN frame back
    dcn: float = 1.0  # DCN and on-hook after the last MCF
    rx_dcn: float = 2.2  # the receiver: MCF sent, waits for the sender's DCN (ppr + dcn, a little more)


DEFAULT_T30 = T30Timing()

# Real sessions measured between two iaxmodems (V.17, efax at both ends): seconds.
REFERENCE = {("fine", 1): 63.4, ("normal", 1): 39.4, ("normal", 3): 92.3, ("fine", 3): 163.9}
REFERENCE_PAGE_BPS = 14193  # page data rate seen on the line at V.17 14,400
