"""The VoipNow-style send endpoint (``POST /uapi/faxes/{userId}/{extension}``)
with bearer tokens issued by ``faxappliance tokens``."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest_twisted

from appliance.cli import CliIO, main
from appliance.web import uapi
from appliance.web.directory import hash_token, open_directory
from tests.web.harness import WebHarness

SEED_BODY = (
    b'------------325343636\r\nContent-Disposition: form-data; name="files"; filename="/path/to/file/fax.txt"'
    b"\r\nContent-Type: application/octet-stream\r\n\r\nThis is my fax\r\n------------325343636\r\n"
    b'Content-Disposition: form-data; name="request"\r\n\r\n{\n  "recipients":["7778888"]\n}\r\n'
    b"------------325343636--\r\n"
)
SEED_TYPE = "multipart/form-data; boundary=----------325343636"


def token_for(h: WebHarness, user: str) -> str:
    return h.directory.add_token(user, "test", 0.0)[1]


def post(
    h: WebHarness,
    token: str | None,
    files: list[tuple[str, bytes]],
    recipients: object,
    path: str = "/uapi/faxes/@me/0003*210",
) -> object:
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    data = {"request": json.dumps({"recipients": recipients})}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return h.request("POST", path, auth=None, files=parts, data=data, headers=headers)


@pytest_twisted.ensureDeferred
async def test_seed_example(h: WebHarness) -> None:
    """The documented request gives 200 {"id", "uid"} and one pending fax to 7778888."""
    token = token_for(h, "alice")
    response = await h.request(
        "POST",
        "/uapi/faxes/@me/0003*210",
        auth=None,
        content=SEED_BODY,
        headers={"Authorization": f"Bearer {token}", "Content-Type": SEED_TYPE},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"id", "uid"} and re.fullmatch(r"[0-9a-f]{32}", body["uid"])
    await h.app.idle()
    fax = h.jobs.get_fax(int(body["id"]))
    (entry,) = h.jobs.list_entries(fax_id=fax.id)
    assert (fax.owner, fax.agent, entry.recipient.fax_number, entry.state.value) == (
        "alice",
        "UAPI",
        "7778888",
        "pending",
    )


@pytest_twisted.ensureDeferred
async def test_bad_tokens(h: WebHarness) -> None:
    """No token, an unknown or revoked token is 401; another user's id is 403 for a non-admin."""
    record, token = h.directory.add_token("alice", "", 0.0)
    assert (await post(h, None, [("a.txt", b"x")], ["1"])).status_code == 401  # type: ignore[attr-defined]
    assert (await post(h, "nope", [("a.txt", b"x")], ["1"])).status_code == 401  # type: ignore[attr-defined]
    other = await post(h, token, [("a.txt", b"x")], ["1"], path="/uapi/faxes/bob/100")
    assert other.status_code == 403  # type: ignore[attr-defined]
    h.directory.revoke_token(record.id)
    assert (await post(h, token, [("a.txt", b"x")], ["1"])).status_code == 401  # type: ignore[attr-defined]
    assert h.jobs.list_entries() == []


@pytest_twisted.ensureDeferred
async def test_documented_errors(h: WebHarness) -> None:
    """fx_recipients_invalid, fx_file_invalid and fx_max_files_reached are 400 and store nothing."""
    token = token_for(h, "alice")
    cases = [
        ([("a.txt", b"hello")], [], "fx_recipients_invalid"),
        ([("a.txt", b"hello")], ["not a number"], "fx_recipients_invalid"),
        ([("a.txt", b"hello")], [str(i) for i in range(401)], "fx_recipients_invalid"),
        ([("a.docx", b"PK..")], ["7778888"], "fx_file_invalid"),
        ([("a.pdf", b"not a pdf")], ["7778888"], "fx_file_invalid"),
        ([(f"p{i}.txt", b"x") for i in range(11)], ["7778888"], "fx_max_files_reached"),
    ]
    for files, recipients, code in cases:
        response = await post(h, token, files, recipients)
        assert response.status_code == 400, (code, response.text)  # type: ignore[attr-defined]
        assert response.json()["error"]["code"] == code  # type: ignore[attr-defined]
    assert h.jobs.list_entries() == []


def test_parse_seed_recipient_forms() -> None:
    """A single recipient string is accepted; allowed extensions are jpg, tif, pdf and txt."""
    body = SEED_BODY.replace(b'["7778888"]', b'"7778888"')
    assert uapi.parse_send(SEED_TYPE, body, max_recipients=400, max_files=10).recipients == ("7778888",)
    assert set(uapi.ALLOWED_EXTENSIONS) >= {"jpg", "tif", "pdf", "txt"}


def test_tokens_cli(tmp_path: Path) -> None:
    """tokens add prints a token once (only its hash is stored), list hides it, revoke disables it."""
    config = tmp_path / "faxappliance.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{tmp_path}/store.db"\n')
    assert (
        main(
            ["--config", str(config), "accounts", "add", "alice", "--password-stdin"],
            CliIO(stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO("pw\n")),
        )
        == 0
    )
    out = io.StringIO()
    assert (
        main(
            ["--config", str(config), "tokens", "add", "alice", "--label", "pbx"],
            CliIO(stdout=out, stderr=io.StringIO()),
        )
        == 0
    )
    token = out.getvalue().strip().rsplit(" ", 1)[-1]
    assert re.fullmatch(r"[0-9a-f]{48}", token)
    db = (tmp_path / "store.db").read_bytes()
    assert token.encode() not in db and hash_token(token).encode() in db
    listing = io.StringIO()
    assert main(["--config", str(config), "tokens", "list"], CliIO(stdout=listing, stderr=io.StringIO())) == 0
    assert "alice" in listing.getvalue() and token not in listing.getvalue() and "active" in listing.getvalue()
    assert (
        main(["--config", str(config), "tokens", "revoke", "1"], CliIO(stdout=io.StringIO(), stderr=io.StringIO())) == 0
    )
    listing = io.StringIO()
    main(["--config", str(config), "tokens", "list"], CliIO(stdout=listing, stderr=io.StringIO()))
    assert "revoked" in listing.getvalue()
    err = io.StringIO()
    assert main(["--config", str(config), "tokens", "revoke", "9"], CliIO(stdout=io.StringIO(), stderr=err)) == 1


def test_tokens_add_refuses_unknown_account(tmp_path: Path) -> None:
    """tokens add for a name that is neither an account nor a web user: one-line error naming it, exit 1."""
    config = tmp_path / "faxappliance.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{tmp_path}/store.db"\n')
    out, err = io.StringIO(), io.StringIO()
    assert main(["--config", str(config), "tokens", "add", "alcie\x1b[2J"], CliIO(stdout=out, stderr=err)) == 1
    assert out.getvalue() == ""
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and "no account 'alcie\\x1b[2J'" in lines[0] and "\x1b" not in lines[0]
    listing = io.StringIO()
    main(["--config", str(config), "tokens", "list"], CliIO(stdout=listing, stderr=io.StringIO()))
    assert len(listing.getvalue().splitlines()) == 1  # the header only: nothing was issued
    directory = open_directory(f"sqlite:///{tmp_path}/store.db")
    try:
        directory.ensure_user("webonly")  # a web user whose account lives on another RADIUS server
    finally:
        directory.close()
    assert (
        main(["--config", str(config), "tokens", "add", "webonly"], CliIO(stdout=io.StringIO(), stderr=io.StringIO()))
        == 0
    )
