"""Page codings (the DIS/DCS ``df`` field) and a page held in several of them (pure).

:mod:`modem.coding` produces and decodes the data; the session machines only
choose among what a :class:`CodedPage` holds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["CodedPage", "Coding"]


class Coding(enum.IntEnum):
    """The ``df`` field of DIS/DCS (T.32 Table 21): how page data are coded."""

    MH = 0  # T.4 1-D Modified Huffman
    MR = 1  # T.4 2-D Modified READ
    MMR = 3  # T.6 Modified Modified READ (needs ECM)


@dataclass(frozen=True, slots=True)
class CodedPage:
    """One page coded in MH and, when wanted, MR and MMR (MSB first, modem framing)."""

    mh: bytes
    mr: bytes | None = None
    mmr: bytes | None = None

    @property
    def codings(self) -> frozenset[Coding]:
        have = {Coding.MH}
        if self.mr is not None:
            have.add(Coding.MR)
        if self.mmr is not None:
            have.add(Coding.MMR)
        return frozenset(have)

    def data(self, coding: Coding | int) -> bytes:
        """The page in ``coding``; KeyError if it was not encoded so."""
        value = {Coding.MH: self.mh, Coding.MR: self.mr, Coding.MMR: self.mmr}.get(Coding(coding))
        if value is None:
            raise KeyError(f"the page was not coded in {Coding(coding).name}")
        return value
