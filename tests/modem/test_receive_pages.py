"""Which received pages make up the fax: the pure judgement (modem.rxpages) and
the receive session fed modem transcripts (RTN and resend, carrier loss mid-page)."""

from __future__ import annotations

import pytest

from modem import class2 as c2
from modem.rxpages import Final, PageLedger, judge_page

from .test_class2 import CFG, D2, D20, RECV_SETUP_20
from .transcript import Transcript, r

P1_BAD = bytes([0x00, 0x01, 0x4D, 0x11]) * 8  # the copy that arrives damaged
P1 = bytes([0x00, 0x01, 0x4D, 0x22]) * 8  # its retransmission
P2 = bytes([0x00, 0x01, 0x4D, 0x33]) * 8
P3 = bytes([0x00, 0x01, 0x4D, 0x44]) * 8
FRAGMENT = bytes([0x00, 0x01, 0x4D, 0x55]) * 3

ANSWER_20 = RECV_SETUP_20[:-1] + [
    ("ATS0=0", r("OK", "RING")),
    ("ATA", r("+FCO", '+FTI:"SENDER"', "+FCS:1,5,0,2,0,0,0,0", "OK")),
]
ANSWER_2 = [
    ("ATQ0V1", r("OK")),
    ("ATE0", r("OK")),
    ("AT+FCLASS=2", r("OK")),
    ("AT+FCR=1", r("OK")),
    ("AT+FBOR=0", r("OK")),
    ("AT+FDCC=1,5,0,2,0,0,0,0", r("OK")),
    ("ATS0=0", r("OK", "RING")),
    ("ATA", r("+FCON", '+FTSI:"SENDER"', "+FDCS:1,5,0,2,0,0,0,0", "OK")),
]


def page20(data: bytes, *status: str) -> tuple[str, bytes]:
    """The DC2 trigger and the modem's answer: page data (LSB-first on the link), then ``status`` lines."""
    return ("<12>", c2.at.stuff(c2.reverse_bits(data)) + b"\x10\x03" + r(*status))


def page2(data: bytes, *status: str) -> tuple[str, bytes]:
    """Class 2 (Rockwell order): the data arrives MSB-first as stored."""
    return ("<12>", c2.at.stuff(data) + b"\x10\x03" + r(*status))


# -- the judgement -------------------------------------------------------------


@pytest.mark.parametrize(
    ("ppr", "ppm", "final", "hangup", "keep", "ask_rtn"),
    [
        (1, 0, Final.OK, None, True, False),  # MCF
        (3, 2, Final.OK, None, True, False),  # RTP: good page, retrain
        (5, 0, Final.OK, None, True, False),  # PIP: good page
        (2, 0, Final.OK, None, False, False),  # RTN: the modem already rejects it
        (4, 0, Final.OK, None, False, False),  # PIN
        (1, 0, Final.ERROR, None, False, True),  # 2.0: ERROR = the modem found the page bad
        (None, 0, Final.OK, None, True, False),  # no status, call fine: good (efax's reading)
        (None, 2, Final.OK, True, True, False),  # +FET:2 +FHNG:0 without status: good
        (None, 0, Final.OK, False, False, False),  # no status and an abnormal hangup
        (None, 0, Final.NO_CARRIER, None, False, False),
        (None, None, Final.OK, False, False, True),  # carrier lost mid-page, no status: fragment
        (1, None, Final.OK, False, False, True),  # status good but no post-page message: fragment
        (1, 0, Final.NO_CARRIER, None, True, False),  # complete and good, then the line dropped
        (1, 2, Final.OK, False, True, False),  # complete and good, then an abnormal hangup
    ],
)
def test_judge_page(
    ppr: int | None, ppm: int | None, final: Final, hangup: bool | None, keep: bool, ask_rtn: bool
) -> None:
    """A page is kept only when the modem's status is good and the remote ended it with a post-page message."""
    verdict = judge_page(ppr=ppr, ppm=ppm, final=final, hangup_normal=hangup)
    assert (verdict.keep, verdict.ask_rtn) == (keep, ask_rtn), verdict
    assert verdict.reason


def test_judge_page_host_check() -> None:
    """The host's copy-quality check can only turn a good page into RTN, never a bad one into MCF."""
    seen: list[bytes] = []

    def passes(data: bytes) -> bool:
        seen.append(data)
        return True

    def fails(data: bytes) -> bool:
        return False

    assert judge_page(ppr=1, ppm=0, final=Final.OK, hangup_normal=None, data=P1, check=passes).keep
    assert seen == [P1]
    verdict = judge_page(ppr=1, ppm=0, final=Final.OK, hangup_normal=None, data=P1, check=fails)
    assert not verdict.keep and verdict.ask_rtn and "copy-quality" in verdict.reason
    assert not judge_page(ppr=2, ppm=0, final=Final.OK, hangup_normal=None, data=P1, check=passes).keep


def test_ledger_keeps_confirmed_pages_in_order() -> None:
    """The ledger's kept pages are the fax; dropped transmissions are counted apart."""
    ledger = PageLedger()
    for data, good in ((P1_BAD, False), (P1, True), (P2, True), (FRAGMENT, False)):
        ledger.add(c2.ReceivedPage(data, 1 if good else 2, None, good))
    assert [p.data for p in ledger.kept] == [P1, P2]
    assert [p.data for p in ledger.dropped] == [P1_BAD, FRAGMENT]
    assert ledger.transmissions == 4


# -- the session -------------------------------------------------------------------


def test_class20_rtn_on_page1_then_resend_stores_three_pages() -> None:
    """3-page fax, the modem answers RTN to page 1 (+FPS:2), the sender resends it: 3 pages, the resent copy."""
    t = Transcript(
        c2.ReceiveSession(D20, CFG),
        ANSWER_20
        + [
            ("AT+FDR", r("CONNECT")),
            page20(P1_BAD, "+FPS:2,0008,0003,0002,0000", "+FET:0", "OK"),
            ("AT+FDR", r("CONNECT")),  # releases RTN; the modem's own ppr, no +FPS= needed
            page20(P1, "+FPS:1,0008,0,0,0", "+FET:0", "OK"),
            ("AT+FDR", r("CONNECT")),
            page20(P2, "+FPS:1,0008,0,0,0", "+FET:0", "OK"),
            ("AT+FDR", r("CONNECT")),
            page20(P3, "+FPS:1,0008,0,0,0", "+FET:2", "OK"),
            ("AT+FDR", r("+FHS:00", "OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.OK, res
    assert [p.data for p in res.received] == [P1, P2, P3]
    assert res.pages_confirmed == res.pages_total == 3
    assert [(p.data, p.ppr, p.ppm, p.good) for p in res.discarded] == [(P1_BAD, 2, 0, False)]
    assert "AT+FPS=2" not in t.writes
    assert "3 page(s) received, 1 transmission(s) not kept" in res.detail


def test_class2_rtn_on_last_page_then_resend() -> None:
    """Class 2: RTN on the last page (+FPTS:2 after +FET:2); the resend ends the call; 2 pages."""
    t = Transcript(
        c2.ReceiveSession(D2, c2.SessionConfig()),
        ANSWER_2
        + [
            ("AT+FDR", r("+FCFR", "CONNECT")),
            page2(P1, "+FPTS:1,8,0,0", "+FET:0", "OK"),
            ("AT+FDR", r("CONNECT")),
            page2(P1_BAD, "+FPTS:2,8,3,2", "+FET:2", "OK"),
            ("AT+FDR", r("CONNECT")),
            page2(P2, "+FPTS:1,8,0,0", "+FET:2", "OK"),
            ("AT+FDR", r("+FHNG:0", "OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.OK, res
    assert [p.data for p in res.received] == [P1, P2]
    assert [p.data for p in res.discarded] == [P1_BAD]


def test_rtn_and_sender_gives_up_on_the_page() -> None:
    """RTN on page 1 and the sender moves on (no resend): page 1 is not stored, only page 2."""
    t = Transcript(
        c2.ReceiveSession(D20, CFG),
        ANSWER_20
        + [
            ("AT+FDR", r("CONNECT")),
            page20(P1_BAD, "+FPS:2,0008,0003,0002,0000", "+FET:0", "OK"),
            ("AT+FDR", r("CONNECT")),
            page20(P2, "+FPS:1,0008,0,0,0", "+FET:2", "OK"),
            ("AT+FDR", r("+FHS:00", "OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.OK and [p.data for p in res.received] == [P2]
    assert res.pages_total == 1 and len(res.discarded) == 1


@pytest.mark.parametrize("status", [(), ("+FPS:1,0046,0000,0000,0000",)])
def test_carrier_lost_mid_page_fragment_not_stored(status: tuple[str, ...]) -> None:
    """Carrier lost mid-page 2 (no +FET:): the fragment is not a page, even with a good line count."""
    t = Transcript(
        c2.ReceiveSession(D20, CFG),
        ANSWER_20
        + [
            ("AT+FDR", r("CONNECT")),
            page20(P1, "+FPS:1,0008,0,0,0", "+FET:0", "OK"),
            ("AT+FDR", r("CONNECT")),
            page20(FRAGMENT, *status, "+FHS:90", "OK"),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.HANGUP, res
    assert res.hangup is not None and res.hangup.code == 0x90
    assert [p.data for p in res.received] == [P1] and res.pages_total == 1
    (fragment,) = res.discarded
    assert fragment.data == FRAGMENT and fragment.ppm is None and "mid-page" in fragment.note
    assert "1 page(s) received, 1 transmission(s) not kept" in res.detail


def test_carrier_lost_mid_first_page_nothing_stored() -> None:
    """Class 2: the only page breaks off: no pages at all, the call ends with the modem's code."""
    t = Transcript(
        c2.ReceiveSession(D2, c2.SessionConfig()),
        ANSWER_2 + [("AT+FDR", r("+FCFR", "CONNECT")), page2(FRAGMENT, "+FHNG:90", "OK")],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.HANGUP and res.received == () and len(res.discarded) == 1


def test_line_dropped_after_a_good_complete_page_keeps_it() -> None:
    """Page 2 complete and reported good (+FPS:1, +FET:0), then NO CARRIER: the page is kept."""
    t = Transcript(
        c2.ReceiveSession(D20, CFG),
        ANSWER_20
        + [
            ("AT+FDR", r("CONNECT")),
            page20(P1, "+FPS:1,0008,0,0,0", "+FET:0", "OK"),
            ("AT+FDR", r("CONNECT")),
            page20(P2, "+FPS:1,0008,0,0,0", "+FET:0", "NO CARRIER"),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.NO_CARRIER
    assert [p.data for p in res.received] == [P1, P2] and res.discarded == ()


@pytest.mark.parametrize("dialect", [D20, D2], ids=["2.0", "2"])
def test_page_not_kept_but_modem_positive_asks_rtn(dialect: c2.Dialect) -> None:
    """The modem says ERROR with a good status (2.0) / the host check fails: +FPS=2 / +FPTS=2 before +FDR."""
    config = c2.SessionConfig(
        init_strings=CFG.init_strings, local_id=CFG.local_id, page_check=lambda data: data != P1_BAD
    )
    if dialect is D20:
        steps = ANSWER_20 + [("AT+FDR", r("CONNECT")), page20(P1_BAD, "+FPS:1,0008,0,0,0", "+FET:2", "ERROR")]
    else:
        setup = [s for s in ANSWER_2 if not s[0].startswith("ATA")]
        setup.insert(4, ('AT+FLID="             5550001"', r("OK")))
        steps = setup + [
            ANSWER_2[-1],
            ("AT+FDR", r("+FCFR", "CONNECT")),
            page2(P1_BAD, "+FPTS:1,8,0,0", "+FET:2", "OK"),
        ]
    command = f"AT{dialect.ppr_command}=2"
    resend = (
        page20(P1, "+FPS:1,0008,0,0,0", "+FET:2", "OK")
        if dialect is D20
        else page2(P1, "+FPTS:1,8,0,0", "+FET:2", "OK")
    )
    t = Transcript(
        c2.ReceiveSession(dialect, config),
        steps
        + [
            (command, r("OK")),
            ("AT+FDR", r("CONNECT")),
            resend,
            ("AT+FDR", r("+FHS:00" if dialect is D20 else "+FHNG:0", "OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.OK, res
    assert [p.data for p in res.received] == [P1] and [p.data for p in res.discarded] == [P1_BAD]
    assert t.writes.count(command) == 1


# -- limits ---------------------------------------------------------------------------


def test_page_longer_than_the_limit_aborts_with_can() -> None:
    """Page 2 runs past max_page_bytes: CAN (the modem ends the data, implied +FK), AT+FKS, ATH0; page 1 kept."""
    config = c2.SessionConfig(init_strings=CFG.init_strings, local_id=CFG.local_id, max_page_bytes=len(P1))
    t = Transcript(
        c2.ReceiveSession(D20, config),
        ANSWER_20
        + [
            ("AT+FDR", r("CONNECT")),
            page20(P1, "+FPS:1,0008,0,0,0", "+FET:0", "OK"),
            ("AT+FDR", r("CONNECT")),
            ("<12>", bytes(len(P1) + 1)),  # one byte too many
            ("<18>", b"\x10\x03" + r("+FHS:02", "OK")),
            ("AT+FKS", r("OK")),
            ("ATH0", r("OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.PROTOCOL_ERROR, res
    assert f"page 2 is longer than {len(P1)} bytes" in res.detail
    assert [p.data for p in res.received] == [P1]


def test_page_at_the_limit_is_accepted() -> None:
    """A page of exactly max_page_bytes is fine."""
    config = c2.SessionConfig(init_strings=CFG.init_strings, local_id=CFG.local_id, max_page_bytes=len(P1))
    t = Transcript(
        c2.ReceiveSession(D20, config),
        ANSWER_20
        + [("AT+FDR", r("CONNECT")), page20(P1, "+FPS:1,0008,0,0,0", "+FET:2", "OK"), ("AT+FDR", r("+FHS:00", "OK"))],
    )
    res = t.run()
    assert res.ok and [p.data for p in res.received] == [P1]


def test_call_bytes_limit_counts_every_transmission() -> None:
    """max_call_bytes counts rejected transmissions too: RTN'd page 1 + its resend + page 2 exceed it."""
    config = c2.SessionConfig(init_strings=CFG.init_strings, local_id=CFG.local_id, max_call_bytes=3 * len(P1) - 1)
    t = Transcript(
        c2.ReceiveSession(D20, config),
        ANSWER_20
        + [
            ("AT+FDR", r("CONNECT")),
            page20(P1_BAD, "+FPS:2,0008,0003,0002,0000", "+FET:0", "OK"),
            ("AT+FDR", r("CONNECT")),
            page20(P1, "+FPS:1,0008,0,0,0", "+FET:0", "OK"),
            ("AT+FDR", r("CONNECT")),
            ("<12>", bytes(len(P2))),
            ("<18>", b"\x10\x03" + r("+FHS:02", "OK")),
            ("AT+FKS", r("OK")),
            ("ATH0", r("OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.PROTOCOL_ERROR
    assert f"exceed {3 * len(P1) - 1} bytes" in res.detail
    assert [p.data for p in res.received] == [P1] and len(res.discarded) == 1


def test_modem_refusing_the_rtn_override_cancels_the_call() -> None:
    """Our check rejects a page the modem found good, and the modem answers ERROR to AT+FPS=2: rather than
    let it confirm a page we drop, the call is cancelled (+FKS, ATH0)."""
    config = c2.SessionConfig(
        init_strings=CFG.init_strings, local_id=CFG.local_id, page_check=lambda data: data != P1_BAD
    )
    t = Transcript(
        c2.ReceiveSession(D20, config),
        ANSWER_20
        + [
            ("AT+FDR", r("CONNECT")),
            page20(P1, "+FPS:1,0008,0,0,0", "+FET:0", "OK"),
            ("AT+FDR", r("CONNECT")),
            page20(P1_BAD, "+FPS:1,0008,0,0,0", "+FET:0", "OK"),
            ("AT+FPS=2", r("ERROR")),
            ("AT+FKS", r("+FHS:02", "OK")),
            ("ATH0", r("OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.ERROR and "refused AT+FPS=2" in res.detail, res
    assert [p.data for p in res.received] == [P1] and [p.data for p in res.discarded] == [P1_BAD]
