"""Class 2.0 / Class 2 session machines against recorded transcripts (spec §6-§9)."""

from __future__ import annotations

import pytest

from modem import class2 as c2
from modem.hangup import Numbering
from modem.params import PageFormat, SessionParams

from .transcript import Transcript, r

CFG = c2.SessionConfig(init_strings=("ATQ0V1", "ATE0"), local_id="5550001")
PAGE1 = bytes([0x00, 0x10, 0x80, 0x01]) * 8  # contains DLE: must be doubled
PAGE2 = bytes([0x00, 0x01, 0x4D, 0x9A]) * 8
D20 = c2.DIALECTS[c2.FaxClass.CLASS20]
D2 = c2.DIALECTS[c2.FaxClass.CLASS2]

SETUP_20 = [
    ("ATQ0V1", r("OK")),
    ("ATE0", r("OK")),
    ("AT+FCLASS=2.0", r("OK")),
    ('AT+FLI="             5550001"', r("OK")),
    ("AT+FBO=0", r("OK")),
    ("AT+FNR=1,1,1,0", r("OK")),
    ("AT+FLO=1", r("OK")),
]
SETUP_2 = [
    ("ATQ0V1", r("OK")),
    ("ATE0", r("OK")),
    ("AT+FCLASS=2", r("OK")),
    ('AT+FLID="             5550001"', r("OK")),
    ("AT+FBOR=0", r("OK")),
]


def send20(pages: list[bytes] | None = None, config: c2.SessionConfig = CFG) -> c2.SendSession:
    return c2.SendSession(D20, config, "5550002", pages or [PAGE1, PAGE2], PageFormat(fine=True))


def send2(pages: list[bytes] | None = None, config: c2.SessionConfig = CFG) -> c2.SendSession:
    return c2.SendSession(D2, config, "5550002", pages or [PAGE1, PAGE2], PageFormat(fine=True))


DIAL_20 = ("ATDT5550002", r("+FCO", '+FCI:"REMOTE ID"', "+FIS:1,5,0,2,0,0,0,0", "OK"))
DIAL_2 = ("ATDT5550002", r("+FCON", '+FCSI:"REMOTE ID"', "+FDIS:1,5,0,2,0,0,0,0", "OK"))


def test_send_class20_two_pages() -> None:
    """Class 2.0 send: setup, dial, two pages with <DLE>, and <DLE>., +FHS:00 = success."""
    t = Transcript(
        send20(),
        SETUP_20
        + [
            ("AT+FCC=1,5,0,2,0,0,0,0", r("OK")),
            DIAL_20,
            ("AT+FDT", r("+FCS:1,5,0,2,0,0,0,0", "CONNECT")),
            ("<data>", r("OK")),
            ("AT+FDT", r("CONNECT")),
            ("<data>", r("+FHS:00", "OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.OK
    assert (res.pages_confirmed, res.pages_total) == (2, 2)
    assert res.remote_id == "REMOTE ID"
    assert res.params == SessionParams(1, 5, 0, 2, 0, 0, 0, 0)
    assert res.hangup is not None and res.hangup.code == 0 and res.hangup.numbering is Numbering.CLASS20
    first, second = t.data
    assert first.endswith(b"\x10,") and second.endswith(b"\x10.")
    assert first[:-2] == c2.at.stuff(c2.reverse_bits(PAGE1))


def test_send_class2_two_pages() -> None:
    """Class 2 send: XON after CONNECT, <DLE><ETX>, +FET=0/2 and +FPTS:1, +FHNG:0."""
    t = Transcript(
        send2(),
        SETUP_2
        + [
            ("AT+FDCC=1,5,0,2,0,0,0,0", r("OK")),
            DIAL_2,
            ("AT+FDT", r("+FDCS:1,5,0,2,0,0,0,0", "CONNECT") + b"\x11"),
            ("<data>", r("OK")),
            ("AT+FET=0", r("+FPTS:1", "OK")),
            ("AT+FDT", r("CONNECT") + b"\x11"),
            ("<data>", r("OK")),
            ("AT+FET=2", r("+FPTS:1", "+FHNG:0", "OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.OK and res.pages_confirmed == 2
    assert res.hangup is not None and res.hangup.numbering is Numbering.CLASS2
    assert all(d.endswith(b"\x10\x03") for d in t.data)


def test_send_class2_no_xon_times_out_and_sends() -> None:
    """Class 2 modems that never send XON: the xon timer expires and data goes anyway."""
    t = Transcript(
        send2([PAGE1]),
        SETUP_2
        + [
            ("AT+FDCC=1,5,0,2,0,0,0,0", r("OK")),
            DIAL_2,
            ("AT+FDT", r("+FDCS:1,5,0,2,0,0,0,0", "CONNECT")),
        ],
    )
    t.pump(t.session.start())
    assert t.session.state is c2.State.WAIT_XON
    outs = t.session.timer_expired(c2.TimerName.XON)
    assert isinstance(outs[0], c2.WriteData) and outs[0].data.endswith(b"\x10\x03")


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        (r("BUSY"), c2.Outcome.BUSY),
        (r("NO DIALTONE"), c2.Outcome.NO_DIALTONE),
        (r("NO ANSWER"), c2.Outcome.NO_ANSWER),
        (r("NO CARRIER"), c2.Outcome.NO_CARRIER),
        (r("ERROR"), c2.Outcome.ERROR),
    ],
)
def test_dial_failures(reply: bytes, outcome: c2.Outcome) -> None:
    """Each dial failure result maps to its outcome and the line is hung up."""
    t = Transcript(
        send20(),
        SETUP_20 + [("AT+FCC=1,5,0,2,0,0,0,0", r("OK")), ("ATDT5550002", reply), ("ATH0", r("OK"))],
    )
    res = t.run()
    assert res.outcome is outcome and res.pages_confirmed == 0


def test_dial_hangup_report() -> None:
    """+FHS:11 then OK while dialing: outcome HANGUP with the code's meaning."""
    t = Transcript(
        send20(),
        SETUP_20 + [("AT+FCC=1,5,0,2,0,0,0,0", r("OK")), ("ATDT5550002", r("+FHS:11", "OK"))],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.NO_FAX or res.outcome is c2.Outcome.HANGUP
    assert res.hangup is not None and res.hangup.code == 0x11
    assert "T1" in res.hangup.meaning


def test_carrier_lost_on_page_2_class20() -> None:
    """Carrier lost during page 2: one page confirmed, the modem's hangup code reported."""
    t = Transcript(
        send20(),
        SETUP_20
        + [
            ("AT+FCC=1,5,0,2,0,0,0,0", r("OK")),
            DIAL_20,
            ("AT+FDT", r("+FCS:1,5,0,2,0,0,0,0", "CONNECT")),
            ("<data>", r("OK")),
            ("AT+FDT", r("CONNECT")),
            ("<data>", r("+FHS:40", "ERROR")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.HANGUP
    assert res.pages_confirmed == 1
    assert res.hangup is not None and res.hangup.wire == "40"
    assert res.hangup.meaning == "unspecified transmit phase C error"


def test_rtn_resend_then_good_class20() -> None:
    """RTN (ERROR after <DLE>,) resends the same page; the next OK confirms it."""
    t = Transcript(
        send20(),
        SETUP_20
        + [
            ("AT+FCC=1,5,0,2,0,0,0,0", r("OK")),
            DIAL_20,
            ("AT+FDT", r("CONNECT")),
            ("<data>", r("ERROR")),
            ("AT+FDT", r("CONNECT")),
            ("<data>", r("OK")),
            ("AT+FDT", r("CONNECT")),
            ("<data>", r("+FHS:00", "OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.OK and res.pages_confirmed == 2 and res.rtn_resends == 1
    assert t.data[0] == t.data[1]


def test_rtn_policy_abort_class2() -> None:
    """With no retries and no continuing, an RTN (+FPTS:2) aborts with +FK and ATH."""
    cfg = c2.SessionConfig(local_id="5550001", rtn_policy=c2.RtnPolicy(retries=0, continue_after=False))
    t = Transcript(
        send2(config=cfg),
        SETUP_2
        + [
            ("AT+FDCC=1,5,0,2,0,0,0,0", r("OK")),
            DIAL_2,
            ("AT+FDT", r("CONNECT") + b"\x11"),
            ("<data>", r("OK")),
            ("AT+FET=0", r("+FPTS:2", "OK")),
            ("AT+FK", r("+FHNG:2", "OK")),
            ("ATH0", r("OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.PAGE_REJECTED and res.pages_confirmed == 0
    assert res.hangup is not None and res.hangup.code == 2


def test_page_timeout_aborts_with_can() -> None:
    """No OK after the page data: the page timer aborts with CAN, +FKS, ATH."""
    t = Transcript(
        send20([PAGE1]),
        SETUP_20
        + [
            ("AT+FCC=1,5,0,2,0,0,0,0", r("OK")),
            DIAL_20,
            ("AT+FDT", r("CONNECT")),
            ("<data>", "page"),
            ("<18>", b""),
            ("AT+FKS", r("+FHS:02", "OK")),
            ("ATH0", r("OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.TIMEOUT and "page timer" in res.detail
    assert res.pages_confirmed == 0


def test_incompatible_remote() -> None:
    """A normal-only remote and fine pages: abort with a clear reason."""
    t = Transcript(
        send20(),
        SETUP_20
        + [
            ("AT+FCC=1,5,0,2,0,0,0,0", r("OK")),
            ("ATDT5550002", r("+FCO", "+FIS:0,3,0,2,0,0,0,0", "OK")),
            ("AT+FKS", r("OK")),
            ("ATH0", r("OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.INCOMPATIBLE and "normal resolution" in res.detail


RECV_SETUP_20 = [
    ("ATQ0V1", r("OK")),
    ("ATE0", r("OK")),
    ("AT+FCLASS=2.0", r("OK")),
    ("AT+FCR=1", r("OK")),
    ('AT+FLI="             5550001"', r("OK")),
    ("AT+FBO=0", r("OK")),
    ("AT+FNR=1,1,1,0", r("OK")),
    ("AT+FLO=1", r("OK")),
    ("AT+FCC=1,5,0,2,0,0,0,0", r("OK")),
    ("ATS0=0", r("OK")),
]


def test_receive_class20_two_pages() -> None:
    """Class 2.0 receive: RING x2, caller ID, ATA, two pages, +FHS:00; pages MSB-first."""
    wire1 = c2.reverse_bits(PAGE1)
    wire2 = c2.reverse_bits(PAGE2)
    s = c2.ReceiveSession(D20, CFG, rings=2)
    t = Transcript(
        s,
        RECV_SETUP_20[:-1]
        + [
            ("ATS0=0", r("OK", "RING", "NMBR = 5550002", "RING")),
            ("ATA", r("+FCO", '+FTI:"SENDER"', "+FCS:1,5,0,2,0,0,0,0", "OK")),
            ("AT+FDR", r("CONNECT")),
            ("<12>", c2.at.stuff(wire1) + b"\x10\x03" + r("+FPS:1,0064,0000,0000,0000", "+FET:0", "OK")),
            ("AT+FDR", r("CONNECT")),
            ("<12>", c2.at.stuff(wire2) + b"\x10\x03" + r("+FPS:1,0064,0,0,0", "+FET:2", "OK")),
            ("AT+FDR", r("+FHS:00", "OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.OK
    assert [p.data for p in res.received] == [PAGE1, PAGE2]
    assert res.received[0].lines == 100 and res.received[0].good
    assert res.caller_id == "5550002" and res.remote_id == "SENDER"
    assert res.pages_confirmed == 2


def test_receive_class2_msb_first_and_fcfr() -> None:
    """Class 2 receive: +FCFR, decimal +FPTS, data delivered MSB-first is kept as is."""
    s = c2.ReceiveSession(D2, c2.SessionConfig(), rings=1)
    t = Transcript(
        s,
        [
            ("ATQ0V1", r("OK")),
            ("ATE0", r("OK")),
            ("AT+FCLASS=2", r("OK")),
            ("AT+FCR=1", r("OK")),
            ("AT+FBOR=0", r("OK")),
            ("AT+FDCC=1,5,0,2,0,0,0,0", r("OK")),
            ("ATS0=0", r("OK", "RING")),
            ("ATA", r("+FCON", '+FTSI:"SENDER"', "+FDCS:1,5,0,2,0,0,0,0", "OK")),
            ("AT+FDR", r("+FCFR", "+FDCS:1,5,0,2,0,0,0,0", "CONNECT")),
            ("<12>", c2.at.stuff(PAGE1) + b"\x10\x03" + r("+FPTS:1,100,0,0", "+FET:2", "OK")),
            ("AT+FDR", r("+FHNG:0", "OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.OK and [p.data for p in res.received] == [PAGE1]
    assert res.received[0].lines == 100


def test_receive_carrier_lost_mid_call() -> None:
    """A hangup report after the first page ends the call with that code and one page."""
    s = c2.ReceiveSession(D20, CFG)
    t = Transcript(
        s,
        RECV_SETUP_20[:-1]
        + [
            ("ATS0=0", r("OK", "RING")),
            ("ATA", r("+FCO", "+FCS:1,5,0,2,0,0,0,0", "OK")),
            ("AT+FDR", r("CONNECT")),
            ("<12>", PAGE1 + b"\x10\x03" + r("+FPS:1,0064,0,0,0", "+FET:0", "OK")),
            ("AT+FDR", r("+FHS:73", "OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.HANGUP and len(res.received) == 1
    assert res.hangup is not None and "T2" in res.hangup.meaning


def test_probe_prefers_class20() -> None:
    """Probe: ATI, ATI3, +FCLASS=? lists 2 and 2.0: 2.0 is chosen and identified."""
    s = c2.ProbeSession(c2.SessionConfig())
    t = Transcript(
        s,
        [
            ("ATQ0V1", r("OK")),
            ("ATE0", r("OK")),
            ("ATI", r("HWSIM FAX", "OK")),
            ("ATI3", r("ERROR")),
            ("AT+FCLASS=?", r("0,1,2,2.0", "OK")),
            ("AT+FCLASS=2.0", r("OK")),
            ("AT+FMI?", r("hwsim", "OK")),
            ("AT+FMM?", r("model", "OK")),
            ("AT+FMR?", r("1.0", "OK")),
            ("AT+FCC=?", r("(0,1),(0-5),(0-2),(0-2),(0,1),(0),(0),(0-7)", "OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.OK and res.probe is not None
    assert res.probe.fax_class is c2.FaxClass.CLASS20
    assert res.probe.classes == ("0", "1", "2", "2.0")
    assert res.probe.manufacturer == "hwsim" and res.probe.identification == ("HWSIM FAX",)
    assert res.probe.caps is not None and res.probe.caps.highest("br") == 5


def test_probe_not_fax() -> None:
    """A data-only modem (+FCLASS=? says 0) is reported as not a fax modem."""
    t = Transcript(
        c2.ProbeSession(c2.SessionConfig(init_strings=())),
        [("ATI", r("OK")), ("ATI3", r("OK")), ("AT+FCLASS=?", r("0", "OK"))],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.NOT_FAX and "'0'" in res.detail


def test_probe_garbage_times_out_with_exchange() -> None:
    """A modem answering garbage: no final result, the error shows the last exchange."""
    t = Transcript(
        c2.ProbeSession(c2.SessionConfig(init_strings=("ATQ0V1",))),
        [("ATQ0V1", b"\r\n\xff\xfegarbage\r\n")],
    )
    t.pump(t.session.start())
    outs = t.session.timer_expired(c2.TimerName.COMMAND)
    (done,) = outs
    assert isinstance(done, c2.SessionDone)
    res = done.result
    assert res.outcome is c2.Outcome.NO_RESPONSE and "ATQ0V1" in res.detail
    assert "< \xff\xfegarbage" in res.exchange


def test_illegal_event_raises_state_unchanged() -> None:
    """An event the table does not allow raises and leaves the state as it was."""
    s = send20()
    s.start()
    assert s.state is c2.State.COMMAND
    with pytest.raises(c2.RemoteProtocolError):
        s.handle(c2.ModemEvent(c2.Kind.DATA_END))
    assert s.state is c2.State.COMMAND
    with pytest.raises(c2.RemoteProtocolError):
        s.handle(c2.ModemEvent(c2.Kind.CONNECT, text="CONNECT"))
    assert s.state is c2.State.COMMAND


def test_illegal_local_calls() -> None:
    """Starting twice, empty page lists and bad dial strings are refused."""
    s = send20()
    s.start()
    with pytest.raises(c2.LocalProtocolError):
        s.start()
    with pytest.raises(c2.LocalProtocolError, match="at least one page"):
        c2.SendSession(D20, CFG, "123", [], PageFormat())
    with pytest.raises(c2.LocalProtocolError, match="dial string"):
        c2.SendSession(D20, CFG, "123;ATZ", [PAGE1], PageFormat())
    with pytest.raises(c2.LocalProtocolError, match="ring count"):
        c2.ReceiveSession(D20, CFG, rings=0)


def test_table_walk_targets_exist() -> None:
    """Every table entry names an existing handler, and every call state can time out."""
    for cls in (c2.SendSession, c2.ReceiveSession, c2.ProbeSession):
        for (state, kind), name in cls.TABLE.items():
            assert callable(getattr(cls, name)), (cls, state, kind, name)
        states = {state for state, _ in cls.TABLE}
        for state in states - {c2.State.WAIT_XON}:
            if state is c2.State.WAIT_RING:
                continue
            assert (state, c2.Kind.TIMEOUT) in cls.TABLE, (cls.__name__, state)


def test_dialect_differences() -> None:
    """The same meaning is spelled per class: +FHS hex vs +FHNG decimal, +FCO vs +FCON."""
    assert c2.classify(D20, c2.at.Line("+FHS:A0")).kind is c2.Kind.HANGUP
    assert c2.classify(D2, c2.at.Line("+FHS:A0")).kind is c2.Kind.INFO
    assert c2.classify(D2, c2.at.Line("+FHNG:100")).kind is c2.Kind.HANGUP
    assert c2.classify(D2, c2.at.Line("+FPTS:1,200")).kind is c2.Kind.PPR
    assert c2.classify(D20, c2.at.Line("+FPS:1,C8,0,0,0")).kind is c2.Kind.PPR
    assert c2.classify(D2, c2.at.Line("+FCFR")).kind is c2.Kind.CFR
    assert c2.classify(D20, c2.at.Line("+FCFR")).kind is c2.Kind.INFO
    assert D20.inband_page_end and not D2.inband_page_end
    assert D2.xon_after_connect and not D20.xon_after_connect
    assert (D20.abort, D2.abort) == ("+FKS", "+FK")


CAPS_2D_ECM = "(0,1),(0-5),(0-2),(0-2),(0,1,3),(0-2),(0),(0-7)"


def test_offer_follows_modem_ranges_and_page_codings() -> None:
    """+FCC offers the codings every page has, as far as +FCC=? allows; MMR only with ECM; the page
    goes out in the coding +FCS reports."""
    from modem.pagedata import CodedPage
    from modem.params import parse_caps

    pages = [CodedPage(PAGE1, mr=PAGE2, mmr=b"\x12\x34" * 8)]
    session = c2.SendSession(D20, CFG, "5550002", pages, PageFormat(fine=True), caps=parse_caps(CAPS_2D_ECM))
    t = Transcript(
        session,
        SETUP_20
        + [
            ("AT+FCC=1,5,0,2,3,2,0,0", r("OK")),
            ("ATDT5550002", r("+FCO", "+FIS:1,5,0,2,3,2,0,0", "OK")),
            ("AT+FDT", r("+FCS:1,5,0,2,3,2,0,0", "CONNECT")),
            ("<data>", r("+FHS:00", "OK")),
        ],
    )
    res = t.run()
    assert res.ok and (res.params.df, res.params.ec) == (3, 2)
    assert t.data[0][:-2] == c2.at.stuff(c2.reverse_bits(b"\x12\x34" * 8))


def test_local_params_and_negotiation_rules() -> None:
    """What is offered and chosen: no ranges known = MH, no ECM, 14,400; MMR and V.34 only with ECM."""
    from modem.params import local_params, negotiate, parse_caps

    every = frozenset({0, 1, 3})
    doc = PageFormat(fine=True)
    assert local_params(doc, max_br=13, codings=every) == SessionParams(1, 5, 0, 2, 0, 0, 0, 0)
    no_ecm = parse_caps("(0,1),(0-D),(0-2),(0-2),(0,1,3),(0),(0),(0-7)")
    assert local_params(doc, max_br=13, caps=no_ecm, codings=every) == SessionParams(1, 5, 0, 2, 1, 0, 0, 0)
    v34 = parse_caps("(0,1),(0-D),(0-2),(0-2),(0,1,3),(0-2),(0),(0-7)")
    offer = local_params(doc, max_br=13, caps=v34, codings=every)
    assert offer == SessionParams(1, 13, 0, 2, 3, 2, 0, 0)
    assert local_params(doc, max_br=13, caps=v34, codings=every, ecm=False).br == 5
    remote_mr = SessionParams(1, 13, 0, 2, 1, 0, 0, 0)  # 2-D, no ECM
    assert negotiate(doc, remote_mr, max_br=13, offer=offer) == SessionParams(1, 5, 0, 0, 1, 0, 0, 0)
    remote_all = SessionParams(1, 13, 0, 2, 3, 1, 0, 0)  # ECM with 64-byte frames only
    assert negotiate(doc, remote_all, max_br=13, offer=offer) == SessionParams(1, 13, 0, 0, 3, 1, 0, 0)


def test_modem_choosing_an_unoffered_coding_aborts() -> None:
    """MH-only pages but the modem reports MMR in +FCS: the call is aborted, nothing wrong is sent."""
    t = Transcript(
        send20([PAGE1]),
        SETUP_20
        + [
            ("AT+FCC=1,5,0,2,0,0,0,0", r("OK")),
            DIAL_20,
            ("AT+FDT", r("+FCS:1,5,0,2,3,2,0,0", "CONNECT")),
            ("AT+FKS", r("OK")),
            ("ATH0", r("OK")),
        ],
    )
    res = t.run()
    assert res.outcome is c2.Outcome.INCOMPATIBLE and "df=3" in res.detail
