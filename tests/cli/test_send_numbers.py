"""``faxappliance send`` passes every ``--to`` through the dial plan: a bad
number is a one-line error naming it, exit status 2, nothing converted or
queued; good numbers are queued as dialled, under ``[dialplan]`` when a
config is given."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest

from appliance.cli import CliIO, main
from appliance.jobs import open_job_store
from appliance.logsafe import safe_for_log
from tests.appliance.test_dialplan import BAD_NUMBERS, GOOD_NUMBERS


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The data directory of an embedded default with an empty job store."""
    data = tmp_path / "var"
    data.mkdir()
    open_job_store(f"sqlite:///{data}/faxappliance.db").close()
    return data


def send(*argv: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    code = main(list(argv), CliIO(stdout=out, stderr=err, stdin=StringIO()))
    return code, out.getvalue(), err.getvalue()


def entries(data_dir: Path) -> list[object]:
    store = open_job_store(f"sqlite:///{data_dir}/faxappliance.db", init=False)
    try:
        return list(store.list_entries())
    finally:
        store.close()


@pytest.mark.parametrize(("raw", "reason"), BAD_NUMBERS)
def test_bad_number_is_one_line_error(raw: str, reason: str, data_dir: Path, tmp_path: Path) -> None:
    """A bad --to (even after a good one) exits 2 with one stderr line naming it; nothing is queued."""
    doc = tmp_path / "doc.txt"
    doc.write_text("hello\n")
    code, out, err = send("send", "--data-dir", str(data_dir), "--to", "555-0100", "--to", raw, str(doc))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "\r" not in err, err
    assert err.startswith(f"faxappliance: fax number '{safe_for_log(raw, 24)}' is not valid: ") and reason in err
    assert entries(data_dir) == []
    assert not (data_dir / "outbox").exists()


def test_good_numbers_are_queued_as_dialled(data_dir: Path, tmp_path: Path) -> None:
    """Every good --to is queued normalised, one entry each."""
    doc = tmp_path / "doc.txt"
    doc.write_text("hello\n")
    argv = ["send", "--data-dir", str(data_dir), "--format", "json"]
    for raw, _ in GOOD_NUMBERS:
        argv += ["--to", raw]
    code, _out, err = send(*argv, str(doc))
    assert code == 0, err
    stored = sorted(entries(data_dir), key=lambda e: e.index)  # type: ignore[attr-defined]
    assert [e.recipient.fax_number for e in stored] == [d for _, d in GOOD_NUMBERS]  # type: ignore[attr-defined]


def test_config_dial_plan_applies(tmp_path: Path) -> None:
    """With --config, its [dialplan] rules rewrite and reject."""
    data = tmp_path / "var"
    config = tmp_path / "faxappliance.toml"
    config.write_text(
        f'data_dir = "{data}"\n[storage]\nurl = "sqlite:///{data}/faxappliance.db"\n'
        '[dialplan]\noutside_prefix = "9"\n'
        'rules = [{pattern = "1900XXXXXXX", action = "reject"}]\n'
    )
    data.mkdir()
    open_job_store(f"sqlite:///{data}/faxappliance.db").close()
    doc = tmp_path / "doc.txt"
    doc.write_text("hello\n")
    code, _, err = send("--config", str(config), "send", "--to", "1 900 555 1234", str(doc))
    assert code == 2 and "refused by dialing rule 1 (1900XXXXXXX)" in err and err.count("\n") == 1
    assert entries(data) == []
    code, _, err = send("--config", str(config), "send", "--to", "555-0101", str(doc))
    assert code == 0, err
    assert [e.recipient.fax_number for e in entries(data)] == ["95550101"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("raw", ["5550101\rATZ", "ATDT5550101", "555;0101", "", "5" * 41])
def test_modem_send_refuses_non_dial_strings(raw: str, tmp_path: Path) -> None:
    """``faxappliance modem send --to`` (a raw dial string) is refused before the device is opened."""
    doc = tmp_path / "doc.txt"
    doc.write_text("hello\n")
    code, out, err = send("modem", "send", str(tmp_path / "no-such-device"), "--to", raw, str(doc))
    assert code == 2 and out == ""
    assert err.startswith("faxappliance: dial string ") and err.count("\n") == 1 and "\r" not in err
