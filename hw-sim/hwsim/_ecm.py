"""What ECM framing and bit errors on the line cost a page (pure).

Deterministic (no randomness): for a bit-error rate ``ber`` a transmission of
``n`` bits holds ``round(n * ber)`` errors, spread evenly.

* **Without ECM** the errors reach the receiver: the bits are flipped in the
  page data and the page is marked damaged (the receiver answers RTN).
* **With ECM** (T.4 Annex A, T.30 Annex A) the page travels in HDLC frames
  whose FCD field holds 64 or 256 octets of page data; up to 256 frames make
  a partial page (a block).  :class:`Framer` counts the bits one transmission
  of the page puts on the line, exactly as T.30 frames them:

  - each FCD frame: address (0xFF), control (0x03), FCF (FCD), frame number,
    the data, FCS (2 octets; CRC-16 of ITU-T T.30 §5.3.7 / ISO 3309), and one
    flag to separate it from the next frame;
  - zero-bit insertion (ISO 3309): a 0 after every five 1 bits inside a
    frame, counted on the actual data (so page data with long runs of 1s,
    such as MMR's V0 codes, pay what they really cost);
  - the last frame of the page carries only the octets left (T.4 A.3.6.1);
  - three RCP frames end each partial page (T.4 A.3.6.2).

  The receiver answers each partial page's PPS with PPR listing the frames
  with errors and the sender resends those until the block is clean (MCF).
  The page arrives intact; the cost is the resent frames and one PPS/PPR
  exchange per round.  After ``MAX_ROUNDS`` rounds with errors left the page
  is given up (damaged).  Every partial page but the last also costs one
  PPS-NULL/MCF exchange (the last one's PPS-MPS/EOP takes the place of the
  non-ECM post-page message).
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field, replace

from ._page import reverse_bits, transmission_bits

FLAG_BITS = 8  # one flag between frames (not subject to zero insertion)
HEADER = bytes([0xFF, 0x03, 0x06])  # address, control (not final), FCF FCD (0110 0000, LSB first)
RCP_FRAME_BITS = FLAG_BITS + 5 * 8  # flag, address, control, FCF RCP, FCS (no data to stuff)
RCP_PER_BLOCK = 3
FRAMES_PER_BLOCK = 256
MAX_ROUNDS = 16


@dataclass(frozen=True)
class LineOutcome:
    """One page over the line: what arrives, its line bits, how many frames were resent."""

    data: bytes
    damaged: bool
    line_bits: int  # bits on the line, first transmission and resent frames
    ppr_rounds: int = 0  # PPS/PPR exchanges that resent frames
    frames_resent: int = 0
    blocks: int = 1  # partial pages (each but the last costs a PPS-NULL/MCF exchange)


def frame_bytes(ec: int) -> int:
    """Frame size of an ``ec`` value (T.32 Table 21): 1 = 64 bytes, 2 = 256 bytes."""
    return 64 if ec == 1 else 256


def fcs(frame: bytes) -> bytes:
    """The HDLC frame check sequence of ``frame`` (CRC-16/X.25), in wire order."""
    # binascii.crc_hqx is the MSB-first CCITT CRC; HDLC runs it LSB first
    crc = binascii.crc_hqx(reverse_bits(frame), 0xFFFF)
    crc = int(f"{crc:016b}"[::-1], 2) ^ 0xFFFF
    return crc.to_bytes(2, "little")


def frame_line_bits(number: int, payload: bytes) -> int:
    """Bits one FCD frame with ``payload`` (wire order) takes on the line, flag included."""
    body = HEADER + bytes([number & 0xFF]) + payload
    bits = transmission_bits(body + fcs(body))
    # zero insertion: a run of k ones gets k // 5 zeros; str.count counts exactly that
    return FLAG_BITS + len(bits) + bits.count("11111")


@dataclass
class Framer:
    """The page data of one page cut into FCD frames as it is sent; counts line bits."""

    size: int  # octets per frame (64 or 256)
    frames: int = 0
    bits: int = 0  # line bits of the frames so far (first transmission)
    _pending: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> None:
        """More page data (wire order)."""
        self._pending += data
        while len(self._pending) >= self.size:
            self._frame(bytes(self._pending[: self.size]))
            del self._pending[: self.size]

    def close(self) -> None:
        """The page ended: the last, possibly shorter frame."""
        if self._pending or not self.frames:
            self._frame(bytes(self._pending))
            self._pending.clear()

    @property
    def blocks(self) -> int:
        return max(1, -(-self.frames // FRAMES_PER_BLOCK))

    def line_bits(self) -> int:
        """Frames plus the RCP frames that end every partial page."""
        return self.bits + self.blocks * RCP_PER_BLOCK * RCP_FRAME_BITS

    def _frame(self, payload: bytes) -> None:
        self.bits += frame_line_bits(self.frames % FRAMES_PER_BLOCK, payload)
        self.frames += 1


def _errors(bits: int, ber: float) -> int:
    return int(bits * ber + 0.5)


def without_ecm(data: bytes, ber: float, carry: float = 0.0) -> tuple[LineOutcome, float]:
    """A piece of a page sent as one stream: bit errors are flipped in the data.

    ``carry`` is the fraction of an error left over from the page's earlier
    pieces; the new carry is returned with the outcome.
    """
    expected = len(data) * 8 * ber + carry
    errors = int(expected) if data else 0
    return flip_bits(data, errors), expected - errors


def flip_bits(data: bytes, errors: int) -> LineOutcome:
    """``data`` with ``errors`` bits flipped, spread evenly."""
    bits = len(data) * 8
    if not errors or not data:
        return LineOutcome(data, False, bits)
    damaged = bytearray(data)
    step = bits / errors
    for k in range(errors):
        position = int(step * k + step / 2)
        damaged[position // 8] ^= 1 << (position % 8)
    return LineOutcome(bytes(damaged), True, bits)


def with_ecm(data: bytes, ber: float, ec: int) -> LineOutcome:
    """The page sent in ECM frames; damaged frames are resent until clean."""
    framer = Framer(frame_bytes(ec))
    framer.feed(data)
    framer.close()
    return replace(ecm_cost(framer, len(data), ber), data=data)


def ecm_cost(framer: Framer, length: int, ber: float) -> LineOutcome:
    """The line cost of a page of ``length`` bytes framed by ``framer`` (closed); ``data`` left empty."""
    data = b""
    frames, blocks = framer.frames, framer.blocks
    line_bits = framer.line_bits()
    if ber <= 0:
        return LineOutcome(data, False, line_bits, blocks=blocks)
    frame_bits = framer.bits // frames  # a resent frame: the mean frame
    # share of frames hit: 1 - (1 - ber)^bits, as whole frames out of those sent
    hit = 1.0 - (1.0 - ber) ** frame_bits
    pending, rounds, resent = frames, 0, 0
    while True:
        bad = int(pending * hit + 0.5)
        if rounds == 0 and bad == 0 and _errors(length * 8, ber):
            bad = 1  # the errors a stream would have hit a frame or so
        if bad == 0:
            return LineOutcome(data, False, line_bits, rounds, resent, blocks)
        if rounds >= MAX_ROUNDS:
            return LineOutcome(data, True, line_bits, rounds, resent, blocks)
        rounds += 1
        resent += bad
        line_bits += bad * frame_bits + RCP_PER_BLOCK * RCP_FRAME_BITS
        pending = bad
