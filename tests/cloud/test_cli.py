"""``faxappliance cloud …`` against a ``hwsim faxage --port 0`` subprocess:
options named after the POST variables, table and JSON output, errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.cli import CliIO, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from hwsim.cli import main; sys.exit(main())",
            "faxage",
            "--port",
            "0",
            "--tick",
            "0.05",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on port "), line
        yield f"http://127.0.0.1:{int(line.split()[-1])}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def config(tmp_path: Path, sim_url: str) -> Path:
    path = tmp_path / "appliance.toml"
    path.write_text(f'[faxage]\nurl = "{sim_url}"\nusername = "sim"\ncompany = "12345"\npassword = "simpass"\n')
    return path


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), io=CliIO(stdout=out, stderr=err))
    return code, out.getvalue(), err.getvalue()


def test_sendfax_then_status_json(config: Path, tmp_path: Path) -> None:
    """cloud sendfax FILE prints the job id; cloud status --jobid … --pagecount 1 --format json shows it."""
    memo = tmp_path / "memo.txt"
    memo.write_text("hello")
    code, out, err = run(
        "--config", str(config), "cloud", "sendfax", "--faxno", "3035550123", "--recipname", "Bob", str(memo)
    )
    assert code == 0, err
    assert out.splitlines()[0].split()[0] == "jobid"
    jobid = int(out.splitlines()[0].split()[1])
    code, out, err = run(
        "--config", str(config), "cloud", "status", "--jobid", str(jobid), "--pagecount", "1", "--format", "json"
    )
    assert code == 0, err
    (record,) = json.loads(out)
    assert record["jobid"] == jobid and record["destname"] == "Bob" and record["pagecount"] == 1


def test_table_output_and_array_options(config: Path) -> None:
    """Lists print as a table; array variables are repeatable options."""
    code, out, _ = run("--config", str(config), "cloud", "listfolder")
    assert code == 0 and out.splitlines()[0].split() == ["folderid", "name"]
    code, out, err = run("--config", str(config), "cloud", "status", "--jobids", "1", "--jobids", "2")
    assert code == 0, err


def test_remote_error_exit_status(config: Path) -> None:
    """A FAXAGE error prints its code and text and exits 1."""
    code, _, err = run("--config", str(config), "cloud", "clear", "--jobid", "424242")
    assert code == 1 and "ERR07" in err


def test_validation_error(config: Path) -> None:
    """Bad input is refused before anything is sent, naming the variable."""
    code, _, err = run(
        "--config",
        str(config),
        "cloud",
        "sendfax",
        "--faxno",
        "123",
        "--recipname",
        "Bob",
        "--faxurl",
        "http://example.com/",
    )
    assert code == 2 and "faxno" in err


def test_missing_credentials(tmp_path: Path) -> None:
    """Without a config the command says which keys are missing."""
    code, _, err = run("cloud", "listlines")
    assert code == 2 and "[faxage] username, company and password" in err


def test_wrong_password_not_echoed(tmp_path: Path, sim_url: str) -> None:
    """ERR02 is reported without echoing the password."""
    path = tmp_path / "bad.toml"
    path.write_text(f'[faxage]\nurl = "{sim_url}"\nusername = "sim"\ncompany = "12345"\npassword = "wrong-pw"\n')
    code, out, err = run("--config", str(path), "cloud", "listlines")
    assert code == 1 and "ERR02" in err and "wrong-pw" not in err + out
