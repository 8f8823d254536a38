"""faxappliance import accounts|dids FILE.csv: checked row by row, all or nothing."""

from __future__ import annotations

from pathlib import Path

from radius.passwords import verify_password
from radius.store import Store
from tests.cli.conftest import Run


def _csv(tmp_path: Path, text: str, name: str = "in.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_accounts(run: Run, store: Store, tmp_path: Path) -> None:
    """Field names and option spellings both work; passwords are hashed; empty cells keep defaults."""
    path = _csv(
        tmp_path,
        "name,password,type,send_enabled,failover-account,call_ahead_mode,snd_ani\n"
        "Alice,pw1,private,yes,,always,5551\n"
        "\n"
        "bob,,group-random,0,alice,,\n",
    )
    result = run("import", "accounts", path)
    assert (result.code, result.out, result.err) == (0, f"imported 2 accounts from {path}\n", "")
    alice, bob = store.get_account("alice"), store.get_account("BOB")
    assert alice is not None and bob is not None
    assert verify_password("pw1", alice.password_hash)
    assert (alice.account_type, alice.send_enabled, alice.call_ahead_mode, alice.snd_ani) == (0, True, 2, "5551")
    assert (bob.password_hash, bob.account_type, bob.send_enabled, bob.rcv_failover_account) == ("", 10, False, "alice")
    assert bob.call_ahead_mode == 1


def test_import_accounts_round_trips_list_csv(run: Run, store: Store, tmp_path: Path) -> None:
    """The CSV of 'accounts list --format csv' imports into an empty store as the same accounts."""
    run("accounts", "add", "a", "--type", "shared", "--send-time-expired", "--customer", "C, Inc.")
    run("accounts", "add", "b", "--no-save-cdr")
    exported = run("accounts", "list", "--format", "csv").out
    before = store.list_accounts()
    for name in ("a", "b"):
        run("accounts", "delete", name)
    assert run("import", "accounts", _csv(tmp_path, exported)).code == 0
    assert store.list_accounts() == before


def test_bad_rows_import_nothing(run: Run, store: Store, tmp_path: Path) -> None:
    """Every bad row is reported with its line and column, and nothing is imported."""
    path = _csv(
        tmp_path,
        "name,type,save_cdr,uuid\n"
        "ok1,private,yes,\n"
        "bad1,nosuchtype,yes,\n"
        "bad2,private,maybe,not-a-uuid\n"
        "OK1,private,yes,\n"
        ",private,yes,\n"
        "short,private\n",
    )
    result = run("import", "accounts", path)
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{path}:3: column 2 (type): 'nosuchtype' is not a number or one of private, shared, private-queue, "
        "shared-queue, group-alternating, group-most-free, group-random",
        f"{path}:4: column 3 (save_cdr): 'maybe' is not a yes/no value (1/0, true/false, yes/no)",
        f"{path}:4: column 4 (uuid): 'not-a-uuid' is not a UUID (32 hex digits, dashes allowed)",
        f"{path}:5: column 1 (name): account 'OK1' repeats line 2",
        f"{path}:6: column 1 (name): the account name is empty",
        f"{path}:7: 2 values, but the header has 4 columns",
        f"faxappliance: 6 error(s) in {path}; nothing imported",
    ]
    assert store.list_accounts() == []


def test_header_errors(run: Run, tmp_path: Path) -> None:
    """Unknown columns and a missing key column are reported on line 1."""
    result = run("import", "accounts", _csv(tmp_path, "name,colour\nx,red\n"))
    assert result.code == 1
    assert "in.csv:1: column 2 (colour): unknown column; known: " in result.err
    result = run("import", "dids", _csv(tmp_path, "account\nx\n"))
    assert "in.csv:1: the header row has no 'did' column" in result.err


def test_existing_account_names_its_line(run: Run, store: Store, tmp_path: Path) -> None:
    """A row whose account exists already is reported at its line; nothing is imported."""
    run("accounts", "add", "Taken")
    path = _csv(tmp_path, "name\nnew1\ntaken\nnew2\n")
    result = run("import", "accounts", path)
    assert result.code == 1
    assert result.err.splitlines()[0] == f"{path}:3: account 'taken' exists already"
    assert [a.name for a in store.list_accounts()] == ["Taken"]


def test_import_dids(run: Run, store: Store, tmp_path: Path) -> None:
    """DIDs import with their account and flags; unknown accounts and repeats are row errors."""
    run("accounts", "add", "Alice")
    good = _csv(tmp_path, "did,account,enabled,line_num\n+1 555 0001,alice,1,2\n5550002,,no,\n*,ALICE,,\n", "good.csv")
    result = run("import", "dids", good)
    assert (result.code, result.out) == (0, f"imported 3 DIDs from {good}\n")
    assert [(d.did, d.account, d.enabled, d.line_num) for d in store.list_dids()] == [
        ("*", "Alice", True, 0),
        ("15550001", "Alice", True, 2),
        ("5550002", "", False, 0),
    ]
    bad = _csv(tmp_path, "did,account,line_num\n600,ghost,1\n601,alice,x\n(601),alice,\n5550002,,\n--,,\n", "bad.csv")
    result = run("import", "dids", bad)
    assert result.code == 1
    assert result.err.splitlines()[:-1] == [
        f"{bad}:2: column 2 (account): no account named 'ghost'",
        f"{bad}:3: column 3 (line_num): 'x' is not a whole number",
        f"{bad}:4: column 1 (did): DID '601' repeats line 3",
        f"{bad}:6: column 1 (did): '--' is not a DID (no digits)",
    ]
    assert len(store.list_dids()) == 3
    existing = _csv(tmp_path, "did\n700\n5550002\n", "existing.csv")
    result = run("import", "dids", existing)
    assert result.err.splitlines()[0] == f"{existing}:3: DID '5550002' exists already"
    assert len(store.list_dids()) == 3


def test_unreadable_file(run: Run, tmp_path: Path) -> None:
    """A missing file is exit 1 naming it."""
    result = run("import", "accounts", str(tmp_path / "missing.csv"))
    assert result.code == 1
    assert "missing.csv: cannot read: No such file or directory" in result.err
