"""faxappliance admin commands: accounts, dids, devices, emails, groups, cdrs."""

from __future__ import annotations

import csv
import io
import json
from io import StringIO
from pathlib import Path

import pytest

from appliance.cli import CliIO, main
from radius.passwords import verify_password
from radius.store import AccountingRecord, Store
from tests.cli.conftest import Run


def test_accounts_add_with_options(run: Run, store: Store) -> None:
    """accounts add stores the options given and a hash of the password."""
    result = run(
        "accounts", "add", "Alice", "--password", "s3cret", "--type", "private-queue", "--send-disabled",
        "--call-ahead-mode", "always", "--snd-ani", "5551000", "--snd-tsid", "TSID", "--rcv-email", "a@example.com",
        "--failover-account", "backup", "--failover-mode", "always", "--rule-group", "*RG", "--upload-logs", "2",
    )  # fmt: skip
    assert (result.code, result.out, result.err) == (0, "added account Alice\n", "")
    account = store.get_account("alice")
    assert account is not None
    assert (account.account_type, account.send_enabled, account.call_ahead_mode) == (4, False, 2)
    assert (account.snd_ani, account.snd_tsid, account.rcv_email) == ("5551000", "TSID", "a@example.com")
    assert (account.rcv_failover_account, account.rcv_failover_mode, account.rule_group) == ("backup", 1, "*RG")
    assert account.upload_logs == 2
    assert "s3cret" not in account.password_hash
    assert verify_password("s3cret", account.password_hash)


def test_long_name_warning(run: Run) -> None:
    """A name over 16 bytes is added with a warning about UUID mode."""
    result = run("accounts", "add", "ä" * 9)
    assert result.code == 0
    assert "is 18 bytes; port servers accept names over 16 bytes only in UUID mode" in result.err
    assert run("accounts", "add", "x" * 16).err == ""


def test_password_from_stdin(run: Run, store: Store) -> None:
    """--password-stdin reads the first line; accounts set can change it."""
    assert run("accounts", "add", "bob", "--password-stdin", stdin="first\nignored\n").code == 0
    account = store.get_account("bob")
    assert account is not None and verify_password("first", account.password_hash)
    assert run("accounts", "set", "BOB", "--password-stdin", stdin="second\n").code == 0
    account = store.get_account("bob")
    assert account is not None and verify_password("second", account.password_hash)
    result = run("accounts", "set", "bob", "--password-stdin", stdin="\n")
    assert (result.code, result.err) == (2, "faxappliance: the password must not be empty\n")


def test_show_never_prints_the_hash(run: Run, store: Store) -> None:
    """accounts show says 'password: set' and never prints the hash, in text or JSON."""
    run("accounts", "add", "alice", "--password", "pw")
    account = store.get_account("alice")
    assert account is not None
    text = run("accounts", "show", "ALICE")
    assert text.code == 0
    assert "password:             set" in text.out
    assert "account_type:         0 (private)" in text.out
    as_json = run("accounts", "show", "alice", "--format", "json")
    assert json.loads(as_json.out)["password"] == "set"
    listed = run("accounts", "list", "--format", "json").out + run("accounts", "list", "--format", "csv").out
    for output in (text.out, as_json.out, listed):
        assert account.password_hash not in output
        assert account.password_hash.split("$")[-1] not in output


def test_unknown_account_is_exit_1(run: Run) -> None:
    """Commands on an unknown account exit 1 with a clear message on stderr."""
    for argv in (("accounts", "show", "x"), ("accounts", "set", "x", "--snd-ani", "1"), ("accounts", "delete", "x")):
        result = run(*argv)
        assert (result.code, result.out, result.err) == (1, "", "faxappliance: no account named 'x'\n")


def test_bad_option_values_are_usage_errors(run: Run) -> None:
    """A bad enumerated value names the option and the accepted values (exit 2)."""
    result = run("accounts", "add", "a", "--call-ahead-mode", "sometimes")
    assert result.code == 2
    assert result.err.startswith("faxappliance: --call-ahead-mode: 'sometimes' is not a number or one of never")
    assert (
        run("accounts", "set", "a").err == "faxappliance: accounts set: nothing to change (give at least one option)\n"
    )


def test_accounts_list_formats(run: Run) -> None:
    """list prints a table by default, JSON and CSV for scripts."""
    run("accounts", "add", "bob", "--receive-disabled")
    run("accounts", "add", "Alice", "--type", "group-random")
    table = run("accounts", "list").out.splitlines()
    assert table[0].split() == ["NAME", "TYPE", "SEND", "RECEIVE", "CALL_AHEAD", "SND_ANI", "RCV_EMAIL", "FAILOVER"]
    assert table[1].split() == ["Alice", "group-random", "yes", "yes", "dynamic"]
    assert table[2].split() == ["bob", "private", "yes", "no", "dynamic"]
    data = json.loads(run("accounts", "list", "--format", "json").out)
    assert [(a["name"], a["account_type"], a["receive_enabled"]) for a in data] == [
        ("Alice", 10, True),
        ("bob", 0, False),
    ]
    rows = list(csv.DictReader(io.StringIO(run("accounts", "list", "--format", "csv").out)))
    assert [(r["name"], r["receive_enabled"]) for r in rows] == [("Alice", "yes"), ("bob", "no")]


def test_accounts_set_and_delete(run: Run, store: Store) -> None:
    """set changes only the given fields; delete removes the account."""
    run("accounts", "add", "a", "--snd-ani", "1", "--customer", "ACME")
    assert run("accounts", "set", "A", "--snd-ani", "2", "--no-save-cdr").out == "updated account a\n"
    account = store.get_account("a")
    assert account is not None and (account.snd_ani, account.save_cdr, account.customer) == ("2", False, "ACME")
    assert run("accounts", "delete", "a").code == 0
    assert store.get_account("a") is None


def test_duplicate_account(run: Run) -> None:
    """Adding an existing name (any case) is exit 1 naming it."""
    run("accounts", "add", "alice")
    result = run("accounts", "add", "ALICE")
    assert (result.code, result.err) == (1, "faxappliance: account 'ALICE' exists already\n")


def test_dids_commands(run: Run, store: Store) -> None:
    """dids add/set/list/delete with --account and --disabled."""
    run("accounts", "add", "Alice")
    assert run("dids", "add", "+1 (555) 010-0001", "--account", "alice", "--line-id", "L1").code == 0
    assert run("dids", "add", "5550002", "--disabled").out == "added DID 5550002 (unassigned)\n"
    did = store.get_did("15550100001")
    assert did is not None and (did.account, did.enabled, did.line_id) == ("Alice", True, "L1")
    assert run("dids", "set", "15550100001", "--disabled", "--account", "").code == 0
    did = store.get_did("15550100001")
    assert did is not None and (did.account, did.enabled) == ("", False)
    run("dids", "set", "5550002", "--account", "ALICE", "--enabled")
    listed = json.loads(run("dids", "list", "--account", "alice", "--format", "json").out)
    assert listed == [
        {
            "did": "5550002",
            "account": "Alice",
            "enabled": True,
            "line_id": "",
            "line_num": 0,
            "snd_ani": "",
            "queue_profile": "",
        }
    ]
    assert run("dids", "list", "--account", "nobody").err == "faxappliance: no account named 'nobody'\n"
    assert run("dids", "add", "1", "--account", "ghost").err == "faxappliance: no account named 'ghost'\n"
    assert run("dids", "delete", "5550002").code == 0
    assert run("dids", "delete", "5550002").err == "faxappliance: no DID '5550002'\n"


def test_devices_commands(run: Run, store: Store) -> None:
    """devices add/list/delete by --mac or --serial."""
    run("accounts", "add", "ata1")
    assert run("devices", "add", "--mac", "00:1a:2b:3c:4d:5e", "--account", "ata1", "--fax-ata-type", "0").code == 0
    assert run("devices", "add", "--serial", "sn1", "--account", "ata1", "--provisioning-arg", "x=1").code == 0
    device = store.get_device("mac", "001A2B3C4D5E")
    assert device is not None and (device.account, device.fax_ata_type) == ("ata1", 0)
    rows = json.loads(run("devices", "list", "--format", "json").out)
    assert [(r["kind"], r["identifier"]) for r in rows] == [("mac", "001A2B3C4D5E"), ("serial", "SN1")]
    assert run("devices", "delete", "--mac", "001a2b3c4d5e").code == 0
    assert run("devices", "delete", "--mac", "001a2b3c4d5e").code == 1
    assert store.get_device("mac", "001A2B3C4D5E") is None


def test_emails_commands(run: Run, store: Store) -> None:
    """emails add/list/delete; addresses match in any case."""
    run("accounts", "add", "alice")
    assert run("emails", "add", "Alice@Example.com", "--account", "alice").code == 0
    found = store.get_account_by_email("alice@example.COM")
    assert found is not None and found.name == "alice"
    assert "Alice@Example.com  alice" in run("emails", "list").out
    assert run("emails", "delete", "ALICE@example.com").code == 0
    assert json.loads(run("emails", "list", "--format", "json").out) == []


def test_groups_commands(run: Run, store: Store) -> None:
    """groups set replaces the members in order; show lists them."""
    run("accounts", "add", "lb", "--type", "group-alternating")
    for name in ("m1", "m2"):
        run("accounts", "add", name)
    assert run("groups", "set", "lb", "m2", "m1").code == 0
    assert store.list_group_members("lb") == ["m2", "m1"]
    shown = json.loads(run("groups", "show", "LB", "--format", "json").out)
    assert shown["members"] == ["m2", "m1"] and shown["last_modified"] > 0
    assert "1         m2" in run("groups", "show", "lb").out
    assert run("groups", "set", "m1", "m2").err.startswith("faxappliance: account 'm1' is not a load-balance group")


def _record(store: Store, key: str, at: float, status: int) -> None:
    store.record_accounting(
        AccountingRecord(key, at, "192.0.2.9", status, "S" + key, "alice", {"FB-Dial-Number": "555", "Class": b"\x01"})
    )


def test_cdrs_list(run: Run, store: Store) -> None:
    """cdrs list: oldest first, --since as ISO-8601 or unix time, --limit, all three formats."""
    _record(store, "a", 1_700_000_000.0, 1)
    _record(store, "b", 1_700_000_100.0, 2)
    _record(store, "c", 1_700_000_200.0, 2)
    table = run("cdrs", "list").out.splitlines()
    assert table[1].split() == ["1", "2023-11-14T22:13:20Z", "Start", "alice", "Sa", "192.0.2.9", "555"]
    data = json.loads(run("cdrs", "list", "--format", "json", "--since", "2023-11-14T22:15:00Z").out)
    assert [c["dedupe_key"] for c in data] == ["b", "c"]
    assert data[0]["attributes"] == {"FB-Dial-Number": "555", "Class": "01"}
    rows = list(
        csv.DictReader(io.StringIO(run("cdrs", "list", "--format", "csv", "--since", "1700000100", "--limit", "1").out))
    )
    assert [(r["dedupe_key"], r["status"]) for r in rows] == [("b", "Stop")]
    assert json.loads(rows[0]["attributes"]) == {"FB-Dial-Number": "555", "Class": "01"}
    bad = run("cdrs", "list", "--since", "yesterday")
    assert (bad.code, bad.err) == (2, "faxappliance: --since 'yesterday' is neither an ISO-8601 time nor a unix time\n")


def test_default_config_uses_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --config the embedded default store under ./var is created and used."""
    monkeypatch.chdir(tmp_path)
    out = StringIO()
    assert main(["accounts", "add", "solo"], io=CliIO(stdout=out, stderr=StringIO())) == 0
    assert (tmp_path / "var" / "faxappliance.db").exists()


def test_bad_store_url_in_config(tmp_path: Path) -> None:
    """A store that cannot be opened is exit 1 with the reason."""
    (tmp_path / "dir.db").mkdir()
    config = tmp_path / "c.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{tmp_path}/dir.db"\n')
    err = StringIO()
    assert main(["--config", str(config), "accounts", "list"], io=CliIO(stdout=StringIO(), stderr=err)) == 1
    assert err.getvalue().startswith("faxappliance: cannot open SQLite database")
