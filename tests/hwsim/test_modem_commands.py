"""The simulated modem's command layer: parsing, echo, identification, parameters."""

from __future__ import annotations

import pytest

from hwsim import _at
from hwsim.modem import ModemConfig, SimModem, ToDTE

from .harness import lines


def talk(modem: SimModem, data: bytes) -> bytes:
    """Feed bytes, return what went to the DTE."""
    return b"".join(o.data for o in modem.feed_dte(data) if isinstance(o, ToDTE))


@pytest.fixture
def modem() -> SimModem:
    """A Class 2.0-capable modem with echo off."""
    m = SimModem(ModemConfig(), "5550001")
    talk(m, b"ATE0\r")
    return m


def test_echo_is_on_after_reset_and_off_after_ate0() -> None:
    """Command characters are echoed until ATE0."""
    m = SimModem(ModemConfig(), "1")
    assert talk(m, b"ATE0\r") == b"ATE0\r\r\nOK\r\n"
    assert talk(m, b"AT\r") == b"\r\nOK\r\n"


def test_bytes_one_at_a_time_give_the_same_answer(modem: SimModem) -> None:
    """Chunking of the command line does not matter."""
    whole = talk(modem, b"AT+FCLASS=?\r")
    parts = b"".join(talk(modem, bytes([b])) for b in b"AT+FCLASS=?\r")
    assert whole == parts == b"\r\n0,2,2.0\r\n\r\nOK\r\n"


def test_lowercase_noise_before_at_and_lf_are_tolerated(modem: SimModem) -> None:
    """Characters before AT are ignored, lower case works, a LF after CR is harmless."""
    assert lines(talk(modem, b"xx at+fclass=2.0\r\n")) == ["OK"]
    assert lines(talk(modem, b"AT+FCLASS?\r")) == ["2.0", "OK"]


def test_chained_commands_run_in_order(modem: SimModem) -> None:
    """`;`-chained +F commands each answer, then one OK."""
    out = lines(talk(modem, b'AT+FCLASS=2.0;+FLI="  +1 555";+FLI?;+FCR=1;+FCR?\r'))
    assert out == ['"  +1 555"', "1", "OK"]


def test_an_error_stops_the_line(modem: SimModem) -> None:
    """An unknown command answers ERROR and the rest of the line is not run."""
    assert lines(talk(modem, b"AT+FCLASS=2.0;+FBOGUS=1;+FCR=1\r")) == ["ERROR"]
    assert lines(talk(modem, b"AT+FCR?\r")) == ["0", "OK"]


@pytest.mark.parametrize(("cmd", "reply"), [(b"ATI\r", "HWSIM FAX MODEM"), (b"ATI3\r", "hwsim")])
def test_identification_strings_are_not_numeric(modem: SimModem, cmd: bytes, reply: str) -> None:
    """ATI and ATI3 answer text (keeps mgetty on its generic path)."""
    out = lines(talk(modem, cmd))
    assert out[0].startswith(reply) and out[-1] == "OK"


def test_manufacturer_queries_in_both_dialects(modem: SimModem) -> None:
    """+FMI?/+FMFR? and friends answer in every class."""
    assert lines(talk(modem, b"AT+FMI?;+FMFR?;+FMM?;+FREV?\r")) == ["HWSIM", "HWSIM", "SIMFAX", "1.0", "OK"]


def test_class2_modem_offers_no_class_2_0() -> None:
    """A Class 2 modem lists 0,2 and refuses +FCLASS=2.0."""
    m = SimModem(ModemConfig(fax_class="2"), "1")
    talk(m, b"ATE0\r")
    assert lines(talk(m, b"AT+FCLASS=?\r")) == ["0,2", "OK"]
    assert lines(talk(m, b"AT+FCLASS=2.0\r")) == ["ERROR"]


def test_each_class_has_its_own_parameter_names(modem: SimModem) -> None:
    """Class 2 names are refused in 2.0 and the other way round."""
    talk(modem, b"AT+FCLASS=2.0\r")
    assert lines(talk(modem, b"AT+FDCC=1,5,0,2,0,0,0,0\r")) == ["ERROR"]
    assert lines(talk(modem, b"AT+FCC=1,3,0,2,0,0,0,0;+FIS?\r")) == ["1,3,0,2,0,0,0,0", "OK"]
    talk(modem, b"AT+FCLASS=2\r")
    assert lines(talk(modem, b"AT+FCC=?\r")) == ["ERROR"]
    assert lines(talk(modem, b"AT+FDCC=?\r")) == [_at.CAPS_TEST, "OK"]
    assert lines(talk(modem, b"AT+FBOR=1;+FBOR?;+FPHCTO?\r")) == ["1", "30", "OK"]


def test_empty_fields_keep_values_and_ranges_are_checked(modem: SimModem) -> None:
    """+FCC=,,,,1 changes one field; out-of-range values answer ERROR."""
    talk(modem, b"AT+FCLASS=2.0\r")
    assert lines(talk(modem, b"AT+FCC=,,,,1;+FCC?\r")) == ["1,5,0,2,1,0,0,0", "OK"]
    assert lines(talk(modem, b"AT+FCC=1,D,0,2,0,0,0,0\r")) == ["ERROR"]  # 33600 not offered
    assert lines(talk(modem, b"AT+FCC=1,5,0,2,0,0,0,0,0\r")) == ["OK"]  # 2.1-style 9th field 0


def test_fnr_and_fip_in_class_2_0(modem: SimModem) -> None:
    """+FNR is stored; +FIP restores the factory parameters."""
    talk(modem, b"AT+FCLASS=2.0\r")
    assert lines(talk(modem, b"AT+FNR=1,1,1,0;+FNR?\r")) == ["1,1,1,0", "OK"]
    assert lines(talk(modem, b"AT+FIP;+FNR?\r")) == ["0,0,0,0", "OK"]


def test_s_registers_and_numeric_results(modem: SimModem) -> None:
    """ATS7=90 sticks; ATV0 gives numeric result codes; ATQ1 silences them."""
    assert lines(talk(modem, b"ATS7=90S7?\r")) == ["090", "OK"]
    assert talk(modem, b"ATV0\r") == b"0\r"
    assert talk(modem, b"AT+FBOGUS\r") == b"4\r"
    assert talk(modem, b"ATV1Q1\r") == b""


def test_reset_restores_defaults(modem: SimModem) -> None:
    """ATZ puts echo, class and parameters back to power-on values."""
    talk(modem, b"AT+FCLASS=2.0;+FCR=1\r")
    assert talk(modem, b"ATZ\r") == b"\r\nOK\r\n"
    assert lines(talk(modem, b"ATE0\r")) == ["ATE0", "OK"]
    assert lines(talk(modem, b"AT+FCLASS?\r")) == ["0", "OK"]


def test_unterminated_quote_is_an_error(modem: SimModem) -> None:
    """A quoted string without its closing quote answers ERROR."""
    assert lines(talk(modem, b'AT+FCLASS=2.0;+FLI="abc\r')) == ["ERROR"]


def test_parse_line_shapes() -> None:
    """The parser splits basic, S-register, dial and extended commands."""
    cmds = _at.parse_line('E0V1S0=2&C1+FCLASS=?;+FLI="a;b";D T555-1234')
    assert cmds == [
        _at.Basic("E", 0),
        _at.Basic("V", 1),
        _at.SReg(0, 2),
        _at.Basic("&C", 1),
        _at.Extended("FCLASS", _at.Op.TEST),
        _at.Extended("FLI", _at.Op.SET, '"a;b"'),
        _at.DialCmd("T555-1234"),
    ]


@pytest.mark.parametrize("bad", ["E0!", "S=1", "&", '+FLI="x'])
def test_parse_line_rejects_garbage(bad: str) -> None:
    """Garbage raises CommandError (answered with ERROR)."""
    with pytest.raises(_at.CommandError):
        _at.parse_line(bad)


@pytest.mark.parametrize("fax_class", ["2.0", "2.1"])
def test_probe_commands_of_class_2_0(fax_class: str) -> None:
    """What HylaFAX's probemodem asks a Class 2.0 modem gets T.32 answers, not ERROR."""
    m = SimModem(ModemConfig(fax_class="2.1"), "1")
    talk(m, b"ATE0\r")
    talk(m, f"AT+FCLASS={fax_class}\r".encode())
    assert lines(talk(m, b"AT+FHS?\r")) == ["00", "OK"]
    assert lines(talk(m, b"AT+FAXERR?\r")) == ["0", "OK"]
    assert lines(talk(m, b"AT+FFC=?\r")) == ["(0),(0),(0),(0)", "OK"]
    assert lines(talk(m, b"AT+FFC?;+FFC=0,0,0,0\r")) == ["0,0,0,0", "OK"]
    assert lines(talk(m, b"AT+FFC=1,0,0,0\r")) == ["ERROR"]  # no format conversion offered
    assert lines(talk(m, b"AT+FAP=?\r")) == ["(0,1),(0,1),(0,1)", "OK"]
    for name in ("FSA", "FPA", "FPW"):
        assert lines(talk(m, f"AT+{name}=?\r".encode())) == ["(20),(32-127)", "OK"]
        assert lines(talk(m, f'AT+{name}="1234";+{name}?\r'.encode())) == ['"1234"', "OK"]
    assert lines(talk(m, b"AT+IFC=?;+IFC?\r")) == ["(0-2),(0-2)", "2,2", "OK"]
    assert lines(talk(m, b"AT+IPR=?\r")) == [_at.IPR_TEST, "OK"]
    assert lines(talk(m, b"AT+IPR=19200;+IPR?\r")) == ["19200", "OK"]  # decimal in Class 2.0 too
    assert lines(talk(m, b"AT+IPR=12345\r")) == ["ERROR"]
    for action in ("FDT", "FDR", "FKS", "FIP"):
        assert lines(talk(m, f"AT+{action}=?\r".encode())) == ["OK"]
    assert lines(talk(m, b"AT+FCC=?\r")) == [_at.CAPS_TEST_21 if fax_class == "2.1" else _at.CAPS_TEST, "OK"]
    assert lines(talk(m, b"AT+FCLASS=?\r")) == ["0,2,2.0,2.1", "OK"]


def test_probe_commands_of_class_2() -> None:
    m = SimModem(ModemConfig(fax_class="2"), "1")
    talk(m, b"ATE0\r")
    talk(m, b"AT+FCLASS=2\r")
    assert lines(talk(m, b"AT+FHNG?;+FAXERR?\r")) == ["0", "0", "OK"]
    assert lines(talk(m, b"AT+FET=?;+FDT=?;+FK=?\r")) == ["(0-2)", "OK"]
    assert lines(talk(m, b"AT+IFC?\r")) == ["2,2", "OK"]


def test_fcc_reports_in_hex_and_v34_only_in_class_2_1() -> None:
    m = SimModem(ModemConfig(fax_class="2.1"), "1")
    talk(m, b"ATE0\r")
    talk(m, b"AT+FCLASS=2.0\r")
    assert lines(talk(m, b"AT+FCC=1,D,0,2,3,2,0,0\r")) == ["ERROR"]
    talk(m, b"AT+FCLASS=2.1\r")
    assert lines(talk(m, b"AT+FCC=1,D,0,2,3,2,0,0;+FCC?\r")) == ["1,D,0,2,3,2,0,0", "OK"]
    assert lines(talk(m, b"AT+FCC=1,5,0,2,2,0,0,0\r")) == ["ERROR"]  # uncompressed mode is not offered
