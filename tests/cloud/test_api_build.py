"""Contract tests for the pure FAXAGE request builders: the exact form fields every
operation sends (tests/cloud/contract.py), endpoints, validation, and that the pure
modules stay free of I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from appliance.cloud import api
from appliance.cloud._ops import OPERATIONS
from appliance.cloud.errors import (
    FaxageRequestError,
)
from tests.cloud.contract import CONTRACT, CREDS, HEAD


def test_contract_covers_every_operation() -> None:
    """The contract table exercises every operation of the three URLs."""
    assert {op for op, _, _ in CONTRACT} == set(OPERATIONS)


@pytest.mark.parametrize(("operation", "params", "expected"), CONTRACT, ids=[c[0] for c in CONTRACT])
def test_form_fields(operation: str, params: dict[str, object], expected: list[tuple[str, str]]) -> None:
    """Each operation sends credentials, its hard-coded operation name and exactly the documented variables."""
    request = api.build(operation, params)  # type: ignore[arg-type]
    head = HEAD if operation == "getcdr" else HEAD + [("operation", operation)]
    assert request.form(CREDS) == head + expected


def test_endpoints() -> None:
    """Operations go to httpsfax.php, getcdr.php or provision.php; debug swaps in httpsfax-debug.php only."""
    base = "https://api.faxage.com"
    assert api.endpoint_url(base, api.build("listlines").endpoint) == base + "/httpsfax.php"
    assert api.endpoint_url(base, api.build("listlines").endpoint, debug=True) == base + "/httpsfax-debug.php"
    assert api.endpoint_url(base, api.build("listac").endpoint, debug=True) == base + "/provision.php"
    assert api.endpoint_url(base + "/", api.build("getcdr", {"nuidgt": 0}).endpoint) == base + "/getcdr.php"


def test_sendfax_files_are_base64_encoded() -> None:
    """build_sendfax encodes each file's bytes as base64 in faxfiledata[] beside its name."""
    request = api.build_sendfax("3035550123", "Bob", [("a.pdf", b"%PDF-1.4"), ("b.TXT", b"hi")])
    assert request.values()["faxfilenames[]"] == ["a.pdf", "b.TXT"]
    assert request.values()["faxfiledata[]"] == ["JVBERi0xLjQ=", "aGk="]


@pytest.mark.parametrize(
    ("kwargs", "variable"),
    [
        ({"faxno": "303555012", "recipname": "Bob"}, "faxno"),
        ({"faxno": "303-555-0123", "recipname": "Bob"}, "faxno"),
        ({"faxno": "3035550123", "recipname": "B" * 33}, "recipname"),
        ({"faxno": "3035550123", "recipname": "Bob", "files": [("virus.exe", b"x")]}, "faxfilenames[]"),
        ({"faxno": "3035550123", "recipname": "Bob", "files": [("empty.pdf", b"")]}, "faxfiledata[]"),
        ({"faxno": "3035550123", "recipname": "Bob", "files": [("a.pdf", b"x")], "priority": "urgent"}, "priority"),
        ({"faxno": "3035550123", "recipname": "Bob", "files": [("a.pdf", b"x")], "retryplan": 7}, "retryplan"),
        (
            {"faxno": "3035550123", "recipname": "Bob", "files": [("a.pdf", b"x")], "url_notify": "ftp://x"},
            "url_notify",
        ),
        ({"faxno": "3035550123", "recipname": "Bob", "files": [("a.pdf", b"x")], "tagnumber": "1" * 15}, "tagnumber"),
    ],
)
def test_sendfax_validation(kwargs: dict[str, object], variable: str) -> None:
    """Invalid sendfax input is refused before sending, naming the variable."""
    kwargs = dict(kwargs)
    files = kwargs.pop("files", [("a.pdf", b"x")])
    with pytest.raises(FaxageRequestError) as info:
        api.build_sendfax(files=files, **kwargs)  # type: ignore[arg-type]
    assert info.value.variable == variable


@pytest.mark.parametrize(
    ("operation", "params", "problem"),
    [
        ("sendfax", {"recipname": "Bob", "faxno": "3035550123"}, "exactly one of"),
        (
            "sendfax",
            {"recipname": "Bob", "faxno": "3035550123", "faxurl": "http://a", "faxurls[]": ["http://b"]},
            "exactly one of",
        ),
        ("status", {"jobid": 1, "jobids[]": [2]}, "not both"),
        ("status", {"jobid": 0}, "positive integer"),
        ("status", {"begin": "2017-01-01"}, "YYYY-MM-DD HH:MM:SS"),
        ("getcdr", {"begin": "2017-01-01 00:00:00"}, "begin and end"),
        ("lowspeed", {"src": "1", "dst": "3035550100", "qtype": "set"}, "setspeed"),
        ("blacklist", {"didnumber": "3035550100", "activity": "add"}, "cidnumber"),
        ("handled", {"recvid": 1}, "required"),
        ("listlines", {"password": "x"}, "supplied by the client"),
        ("listlines", {"bogus": "1"}, "not a variable"),
        ("nosuchop", {}, "unknown operation"),
    ],
)
def test_build_validation(operation: str, params: dict[str, object], problem: str) -> None:
    """Missing, extra, conflicting or malformed variables raise a specific FaxageRequestError."""
    with pytest.raises(FaxageRequestError, match=problem):
        api.build(operation, params)  # type: ignore[arg-type]


def test_request_repr_hides_secrets_and_file_data() -> None:
    """A request's repr shows neither user passwords nor file contents."""
    request = api.build("adduser", {"ulogin": "amy", "upasswd": "s3cret-pw", "ufullname": "A", "uemail": "a@x"})
    assert "s3cret-pw" not in repr(request)
    files = api.build_sendfax("3035550123", "Bob", [("a.txt", b"confidential")])
    assert "Y29uZmlkZW50aWFs" not in repr(files)
    assert "hunter2" not in repr(CREDS)


def test_core_modules_are_sans_io() -> None:
    """The pure modules import no twisted, httpx, socket, time, random, os or logging."""
    banned = {"twisted", "httpx", "socket", "time", "random", "os", "logging"}
    root = Path(__file__).resolve().parents[2] / "appliance" / "cloud"
    for name in ("api.py", "_ops.py", "_parsers.py", "_retry.py", "errors.py", "records.py", "_receive_rules.py"):
        tree = ast.parse((root / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                continue
            assert not {m.split(".")[0] for m in mods} & banned, (name, mods)
