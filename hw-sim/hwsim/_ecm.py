"""What bit errors on the line do to a page, with and without ECM (pure).

Deterministic (no randomness): for a bit-error rate ``ber`` a transmission of
``n`` bits holds ``round(n * ber)`` errors, spread evenly.

* **Without ECM** the errors reach the receiver: the bits are flipped in the
  page data and the page is marked damaged (the receiver answers RTN).
* **With ECM** (T.4 Annex A, T.30 §A) the page travels in HDLC frames of 64
  or 256 bytes, blocks of up to 256 frames; the receiver answers each block
  with PPR listing the frames with errors and the sender resends those until
  the block is clean (MCF).  The page arrives intact; the cost is frame
  overhead, the resent frames and one PPS/PPR exchange per round.  After
  ``MAX_ROUNDS`` rounds with errors left the page is given up (damaged).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

FRAME_OVERHEAD_BYTES = 7  # address, control, FCD, frame number, FCS, one flag
BIT_STUFFING = 1.03  # HDLC zero insertion, typical page data
FRAMES_PER_BLOCK = 256
MAX_ROUNDS = 16


@dataclass(frozen=True)
class LineOutcome:
    """One page over the line: what arrives, its extra line time, how many frames were resent."""

    data: bytes
    damaged: bool
    line_bits: int  # bits on the line, first transmission and resent frames
    ppr_rounds: int = 0  # PPS/PPR exchanges that resent frames
    frames_resent: int = 0
    blocks: int = 1


def frame_bytes(ec: int) -> int:
    """Frame size of an ``ec`` value: 1 = 64 bytes, 2 = 256 bytes."""
    return 64 if ec == 1 else 256


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
    return replace(ecm_cost(len(data), ber, ec), data=data)


def ecm_cost(length: int, ber: float, ec: int) -> LineOutcome:
    """Like :func:`with_ecm` for a page of ``length`` bytes (``data`` left empty)."""
    data = b""
    size = frame_bytes(ec)
    frames = max(1, -(-length // size))
    frame_bits = int((size + FRAME_OVERHEAD_BYTES) * 8 * BIT_STUFFING)
    line_bits = frames * frame_bits
    blocks = -(-frames // FRAMES_PER_BLOCK)
    if ber <= 0:
        return LineOutcome(data, False, line_bits, blocks=blocks)
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
        line_bits += bad * frame_bits
        pending = bad
