"""Benchmark: our RADIUS server against FreeRADIUS 3.2, same accounts, same load.

One run, both servers running side by side on this machine on loopback high
ports, the measurements alternating between them:

1. N accounts (``acct000001`` …) with the same data for both: FreeRADIUS gets
   them as a ``files`` users file (``Auth-Type := Accept`` plus the reply
   attributes of Get-Account / Pre-Send-Session), our server gets them in a
   fresh SQLite store through the store's bulk API.
2. Access: one radclient load of Get-Account / Pre-Send-Session requests
   (1,000 distinct packets, each sent ``count`` times: radclient gives every
   send a new ID and a new random Request Authenticator, so nothing is a
   duplicate) with ``-p P``; 0 lost and all accepted are required.
3. Accounting: distinct Stops (every Acct-Session-Id unique, so no request
   is a retransmission and no CDR can be skipped), each with the FB-* CDR
   attributes.  FreeRADIUS writes them with its ``detail`` module, our server
   commits each to SQLite before answering.  The CDRs are counted afterwards.

Prints requests/s for each server and the ratio ours/FreeRADIUS, plus the
CPU time each server used per request.  See bench/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _freeradius import (
    FreeRadius,
    FreeRadiusError,
    free_udp_ports,
    freeradius_binary,
    status_server,
    users_entry,
)

ROOT = Path(__file__).resolve().parent.parent
DICTIONARY_DIR = ROOT / "dictionary"
SECRET = "bench-secret-7f3a"
DISTINCT_AUTH_PACKETS = 1000
# radclient 3.2.1 spends time per packet in proportion to the size of its
# request file (8 s of its own CPU for one 30,000-packet file, about 2 s for
# the same packets in files of 2,500), so distinct Stops go in files of this size,
# sent one file after the other.
STOPS_PER_FILE = 2500
CLK_TCK = os.sysconf("SC_CLK_TCK")
PY_SPY: Path | None = None  # set by --profile
PROFILE_FORMAT = "flamegraph"  # --profile-format


class BenchError(RuntimeError):
    pass


# ------------------------------------------------------------------ the data


@dataclass(frozen=True)
class AccountData:
    """The fields both servers get for one account."""

    name: str
    snd_ani: str
    snd_tsid: str
    rule_group: str
    customer: str
    cdr_info: str
    source: str
    call_ahead_mode: int = 1
    save_cdr: bool = True
    send_enabled: bool = True
    send_time_expired: bool = False
    send_on_behalf_of: bool = False
    upload_logs: int = 0


def make_accounts(count: int) -> list[AccountData]:
    out = []
    for i in range(1, count + 1):
        out.append(
            AccountData(
                name=f"acct{i:06d}",
                snd_ani=f"1555{i:07d}",
                snd_tsid=f"+1 555 {i:07d}",
                rule_group="Default Rule Group",
                customer=f"Customer {i // 100:04d}",
                cdr_info=f"cc-{i:06d}",
                source="bench",
                call_ahead_mode=(0, 1, 2)[i % 3],
            )
        )
    return out


def pre_send_reply(acct: AccountData) -> dict[str, object]:
    """What Get-Account / Pre-Send-Session answers for ``acct`` (spec E3)."""
    return {
        "FB-Snd-From-Account": int(acct.send_enabled),
        "FB-Snd-Time-Expired": int(acct.send_time_expired),
        "FB-Snd-On-Behalf-Of": int(acct.send_on_behalf_of),
        "FB-Call-Ahead-Mode": acct.call_ahead_mode,
        "FB-Save-CDR": int(acct.save_cdr),
        "FB-Upload-Logs": acct.upload_logs,
        "FB-Snd-ANI": acct.snd_ani,
        "FB-Snd-TSID": acct.snd_tsid,
        "FB-Rule-Group": acct.rule_group,
        "FB-CDR-Info": acct.cdr_info,
        "FB-Customer": acct.customer,
        "FB-Source": acct.source,
    }


def write_users_file(path: Path, accounts: list[AccountData]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for a in accounts:
            f.write(users_entry(a.name, {"Auth-Type": "Accept"}, pre_send_reply(a)))


def load_our_store(url: str, accounts: list[AccountData]) -> None:
    from radius.store import open_store
    from radius.store.api import Account

    store = open_store(url)
    try:
        if hasattr(store, "init_schema"):
            store.init_schema()
        store.add_accounts(
            Account(
                name=a.name,
                snd_ani=a.snd_ani,
                snd_tsid=a.snd_tsid,
                rule_group=a.rule_group,
                customer=a.customer,
                cdr_info=a.cdr_info,
                source=a.source,
                call_ahead_mode=a.call_ahead_mode,
                save_cdr=a.save_cdr,
                send_enabled=a.send_enabled,
                send_time_expired=a.send_time_expired,
                send_on_behalf_of=a.send_on_behalf_of,
                upload_logs=a.upload_logs,
            )
            for a in accounts
        )
    finally:
        store.close()


def write_auth_requests(path: Path, accounts: list[AccountData], count: int, rng: random.Random) -> None:
    with open(path, "w", encoding="ascii") as f:
        for _ in range(count):
            f.write(_auth_request(rng.choice(accounts), rng))


def write_distinct_auth_requests(
    directory: Path, accounts: list[AccountData], count: int, rng: random.Random
) -> list[Path]:
    """``count`` Get-Account / Pre-Send-Session requests, each about a different
    account (no repetition), in files of at most STOPS_PER_FILE packets."""
    directory.mkdir(parents=True, exist_ok=True)
    chosen = rng.sample(accounts, count)
    paths = []
    for first in range(0, count, STOPS_PER_FILE):
        path = directory / f"access-{first // STOPS_PER_FILE:04d}.txt"
        paths.append(path)
        with open(path, "w", encoding="ascii") as f:
            for a in chosen[first : first + STOPS_PER_FILE]:
                f.write(_auth_request(a, rng))
    return paths


def _auth_request(a: AccountData, rng: random.Random) -> str:
    return (
        f'User-Name = "{a.name}"\n'
        "FB-Command = Get-Account\n"
        "FB-Context = Pre-Send-Session\n"
        f'Acct-Session-Id = "{rng.getrandbits(128):032x}"\n'
        f'FB-Dial-Number = "1{rng.randrange(2000000000, 9999999999)}"\n'
        "FB-Transfer-Type = Queue\n"
        "Message-Authenticator = 0x00\n\n"
    )


def write_stop_requests(
    directory: Path, accounts: list[AccountData], count: int, rng: random.Random, tag: str
) -> list[Path]:
    """``count`` Stops with unique Acct-Session-Ids (``tag`` keeps rounds
    apart), in files of at most STOPS_PER_FILE packets."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for first in range(0, count, STOPS_PER_FILE):
        path = directory / f"stops-{first // STOPS_PER_FILE:04d}.txt"
        paths.append(path)
        _write_stops(path, accounts, range(first, min(count, first + STOPS_PER_FILE)), rng, tag)
    return paths


def _write_stops(path: Path, accounts: list[AccountData], numbers: range, rng: random.Random, tag: str) -> None:
    with open(path, "w", encoding="ascii") as f:
        for i in numbers:
            a = rng.choice(accounts)
            pages = rng.randrange(1, 30)
            seconds = pages * rng.randrange(20, 60)
            f.write(
                f'User-Name = "{a.name}"\n'
                "Acct-Status-Type = Stop\n"
                f'Acct-Session-Id = "{tag}{i:08d}{rng.getrandbits(64):016x}"\n'
                'NAS-Identifier = "portserver-bench"\n'
                f"Acct-Session-Time = {seconds}\n"
                f'FB-Dial-Number = "1{rng.randrange(2000000000, 9999999999)}"\n'
                "FB-Is-Send = Send\n"
                "FB-CDR-Type = Realtime\n"
                f"FB-Page-Count = {pages}\n"
                f"FB-Total-Seconds = {seconds}\n"
                "FB-Connect-BPS = 14400\n"
                "FB-Fax-Error-Code = 0\n"
                f'FB-Remote-CSID = "+1 555 {rng.randrange(10**7):07d}"\n'
                f'FB-Port-Used = "port{rng.randrange(1, 49)}"\n'
                "FB-Called-Number-Result = Success\n\n"
            )


# ----------------------------------------------------------------- radclient


@dataclass
class LoadResult:
    requests: int
    seconds: float
    accepted: int
    rejected: int
    lost: int
    server_cpu: float  # seconds of CPU the server used during the run
    client_cpu: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def process_tree(pid: int) -> list[int]:
    """``pid`` and its child processes (the RADIUS workers)."""
    out = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[1]) == pid:
                out.append(int(entry))
    return out


def proc_cpu_seconds(pid: int | None) -> float:
    """utime+stime of ``pid`` and its children (all threads), and their reaped children."""
    if pid is None:
        return 0.0
    total = 0
    for p in process_tree(pid):
        fields = _stat(p)
        if fields is not None:
            # fields[0] is state (field 3); utime=14, stime=15, cutime=16, cstime=17
            total += sum(int(fields[i]) for i in (11, 12, 13, 14))
    return total / CLK_TCK


def proc_rss_mb(pid: int | None) -> float:
    """Resident memory of ``pid`` and its children, in MB."""
    if pid is None:
        return 0.0
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total / 1e6


_SUMMARY = re.compile(r"^\s*(Accepted|Rejected|Lost)\s*:\s*(\d+)", re.M)


def radclient_load(
    port: int, kind: str, request_files: list[Path], count: int, parallel: int, server_pid: int | None, total: int
) -> LoadResult:
    """Run radclient on each file in turn; the summed summary and wall time."""
    cpu0 = proc_cpu_seconds(server_pid)
    ru0 = os.times()
    t0 = time.perf_counter()
    found = {"Accepted": 0, "Rejected": 0, "Lost": 0}
    for request_file in request_files:
        cmd = [
            "radclient", "-q", "-s",
            "-c", str(count),
            "-p", str(parallel),
            "-f", str(request_file),
            "-d", str(DICTIONARY_DIR),
            f"127.0.0.1:{port}", kind, SECRET,
        ]  # fmt: skip
        res = subprocess.run(cmd, capture_output=True, text=True)
        summary = _SUMMARY.findall(res.stdout + res.stderr)
        if not summary:
            raise BenchError(f"radclient printed no summary (status {res.returncode}):\n{res.stdout}{res.stderr}")
        for k, v in summary:
            found[k] += int(v)
    elapsed = time.perf_counter() - t0
    ru1 = os.times()
    cpu1 = proc_cpu_seconds(server_pid)
    return LoadResult(
        requests=total,
        seconds=elapsed,
        accepted=found["Accepted"],
        rejected=found["Rejected"],
        lost=found["Lost"],
        server_cpu=cpu1 - cpu0,
        client_cpu=(ru1.children_user + ru1.children_system) - (ru0.children_user + ru0.children_system),
    )


def radclient_show(port: int, kind: str, text: str, dict_dir: Path) -> str:
    """Send one request with ``-x`` and return radclient's printout."""
    res = subprocess.run(
        ["radclient", "-x", "-d", str(dict_dir), f"127.0.0.1:{port}", kind, SECRET],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return res.stdout + res.stderr


# ------------------------------------------------------------------ servers


class Server:
    label = ""
    durability = ""

    def __init__(self, work: Path, accounts: list[AccountData]) -> None:
        self.work = work
        self.accounts = accounts
        self.auth_port, self.acct_port = free_udp_ports(2)

    pid: int | None = None

    def prepare(self) -> float:
        raise NotImplementedError

    def start(self) -> float:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def cdr_count(self, tag: str) -> int:
        raise NotImplementedError


class FreeRadiusServer(Server):
    label = "FreeRADIUS"
    durability = "detail module: one write(2) per record into the page cache, no fsync"

    def __init__(self, work: Path, accounts: list[AccountData]) -> None:
        super().__init__(work, accounts)
        self.fr = FreeRadius(work, self.auth_port, self.acct_port, SECRET, accounting="detail")
        self.users_path = self.fr.users_path = self.fr.raddb / "users"

    @property
    def pid(self) -> int | None:  # type: ignore[override]
        return self.fr.pid

    def prepare(self) -> float:
        t0 = time.perf_counter()
        self.fr.raddb.mkdir(parents=True, exist_ok=True)
        write_users_file(self.users_path, self.accounts)
        return time.perf_counter() - t0

    def start(self) -> float:
        t0 = time.perf_counter()
        self.fr.start(timeout=300)
        return time.perf_counter() - t0

    def stop(self) -> None:
        self.fr.stop()

    def cdr_count(self, tag: str) -> int:
        n = 0
        needle = f'Acct-Session-Id = "{tag}'
        for p in self.fr.radacct.rglob("detail-*"):
            with open(p, encoding="utf-8", errors="replace") as f:
                n += sum(1 for line in f if needle in line)
        return n


class OurServer(Server):
    label = "ours"
    synchronous = ""  # "" = the store's default (FULL)
    decision_cache: float | None = None  # None = the server's default
    workers: int | None = None  # None = the server's default

    @property
    def durability(self) -> str:  # type: ignore[override]
        sync = (self.synchronous or "full").upper()
        what = (
            "WAL fdatasync'd at every commit"
            if sync in ("FULL", "EXTRA")
            else "WAL written at every commit, fsync'd only at checkpoints"
        )
        return (
            f"SQLite WAL, synchronous={sync}: each CDR committed before its Accounting-Response ({what}; group commit)"
        )

    def __init__(self, work: Path, accounts: list[AccountData]) -> None:
        super().__init__(work, accounts)
        self.db = work / "radius.db"
        self.config = work / "faxappliance.toml"
        self.log_path = work / "faxappliance.log"
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:  # type: ignore[override]
        return self.proc.pid if self.proc else None

    def prepare(self) -> float:
        self.work.mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            f'data_dir = "{self.work}"\n\n'
            "[storage]\n"
            f'url = "{self.url}"\n\n'
            "[radius]\n"
            'listen = "127.0.0.1"\n'
            f"auth_port = {self.auth_port}\n"
            f"acct_port = {self.acct_port}\n"
            # Both servers run with reject_delay 0 (FreeRADIUS's config from
            # _freeradius.py says so too; both default to 1 s): the load is all
            # accepts, and a delayed reject would measure the timer, not the server.
            "reject_delay = 0\n"
            + (f"decision_cache_seconds = {self.decision_cache}\n" if self.decision_cache is not None else "")
            + (f"workers = {self.workers}\n" if self.workers is not None else "")
            + "\n"
            "[[radius.clients]]\n"
            'address = "127.0.0.1"\n'
            f'secret = "{SECRET}"\n'
            "require_message_authenticator = true\n",
            encoding="utf-8",
        )
        t0 = time.perf_counter()
        load_our_store(self.url, self.accounts)
        return time.perf_counter() - t0

    @property
    def url(self) -> str:
        # An absolute path gives sqlite:////abs/path.
        return f"sqlite:///{self.db}" + (f"?synchronous={self.synchronous}" if self.synchronous else "")

    def start(self) -> float:
        exe = shutil.which("faxappliance", path=str(Path(sys.executable).parent)) or shutil.which("faxappliance")
        if exe is None:
            raise BenchError("faxappliance not found: install the project (./dev test creates .venv)")
        t0 = time.perf_counter()
        with open(self.log_path, "wb") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [exe, "--config", str(self.config), "radius"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        secret = SECRET.encode()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"faxappliance radius exited with status {self.proc.returncode}:\n{self.log_tail()}")
            if (
                status_server("127.0.0.1", self.auth_port, secret) == 2
                and status_server("127.0.0.1", self.acct_port, secret) == 5
            ):
                return time.perf_counter() - t0
            time.sleep(0.2)
        raise BenchError(f"faxappliance radius did not answer Status-Server within 120s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def cdr_count(self, tag: str) -> int:
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            (n,) = con.execute(
                "SELECT COUNT(*) FROM accounting WHERE status_type = 2 AND session_id LIKE ?", (tag + "%",)
            ).fetchone()
            return int(n)
        finally:
            con.close()


class OurPgServer(OurServer):
    """Our server on a PostgreSQL store (a throwaway cluster with fsync on)."""

    label = "ours-pg"
    pg_url = ""

    @property
    def durability(self) -> str:  # type: ignore[override]
        return (
            "PostgreSQL, fsync on, synchronous_commit on: each CDR committed (WAL flushed) before its "
            "Accounting-Response (group commit); the PostgreSQL server's own CPU is not in the CPU figures"
        )

    @property
    def url(self) -> str:  # type: ignore[override]
        return self.pg_url

    def cdr_count(self, tag: str) -> int:
        import psycopg

        with psycopg.connect(self.pg_url) as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM accounting WHERE status_type = 2 AND session_id LIKE %s", (tag + "%",)
            ).fetchone()
        return int(row[0]) if row else 0


@contextmanager
def postgres_cluster(enabled: bool) -> Iterator[str]:
    """With ``--pg``: a throwaway durable PostgreSQL cluster; yields a database URL."""
    if not enabled:
        yield ""
        return
    sys.path.insert(0, str(ROOT))
    from tests.peers import require_postgres_bin
    from tests.pg import PostgresCluster

    try:
        bindir = require_postgres_bin()
    except BaseException as exc:  # pytest's skip outside pytest
        raise BenchError("--pg needs the PostgreSQL server: install the Debian package postgresql") from exc
    cluster = PostgresCluster(bindir, durable=True)
    cluster.start()
    try:
        yield cluster.create_database("radius_bench")
    finally:
        cluster.stop()


# --------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="radius_vs_freeradius",
        description="Our RADIUS server against FreeRADIUS 3.2: Access (Get-Account/Pre-Send-Session) "
        "and accounting Stops with durable CDRs, same accounts, same radclient load.",
    )
    p.add_argument("--accounts", type=int, default=100_000, help="accounts in each store (default 100000)")
    p.add_argument("--requests", type=int, default=30_000, help="requests per measurement (default 30000)")
    p.add_argument("--parallel", type=int, default=100, help="radclient -p (default 100)")
    p.add_argument(
        "--rounds", type=int, default=3, help="measurements per server and kind, servers alternating (default 3)"
    )
    p.add_argument(
        "--our-synchronous",
        choices=("full", "normal"),
        default="",
        help="SQLite synchronous mode of our store (default: the store's default, FULL)",
    )
    p.add_argument(
        "--our-decision-cache",
        type=float,
        default=None,
        metavar="SECONDS",
        help="[radius] decision_cache_seconds of our server (default: the server's default, 1; 0 = off)",
    )
    p.add_argument(
        "--our-workers",
        type=int,
        default=None,
        metavar="N",
        help="[radius] workers of our server (default: the server's default, one per core)",
    )
    p.add_argument(
        "--distinct",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Access load: every request of a round about a different account (default); "
        "--no-distinct: 1,000 distinct requests repeated",
    )
    p.add_argument(
        "--repetitive",
        action="store_true",
        help="with --distinct, also measure the repeated 1,000-request Access load",
    )
    p.add_argument("--pg", action="store_true", help="also run our server on a PostgreSQL store (a throwaway cluster)")
    p.add_argument("--only", choices=("ours", "freeradius"), help="run one server only")
    p.add_argument("--skip-acct", action="store_true", help="Access only")
    p.add_argument("--skip-auth", action="store_true", help="accounting only")
    p.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample our server with py-spy during each measurement; flame graphs go to DIR",
    )
    p.add_argument(
        "--profile-format",
        choices=("flamegraph", "raw"),
        default="flamegraph",
        help="py-spy output: flame graph (SVG) or raw collapsed stacks (text, one stack per line with its count)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temp directory (configs, logs, stores)")
    p.add_argument("--seed", type=int, default=2866, help="random seed of the request files")
    args = p.parse_args(argv)
    if args.accounts < 1 or args.requests < 1 or not 1 <= args.parallel <= 255 or args.rounds < 1:
        p.error("--accounts, --requests, --rounds must be >= 1 and --parallel 1..255")
    if args.distinct and args.requests > args.accounts:
        p.error("--distinct needs --requests <= --accounts (no account is asked about twice in a round)")
    return args


def _on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def check_peers(only: str | None) -> None:
    if shutil.which("radclient") is None:
        raise BenchError("radclient not found: install the Debian package freeradius-utils")
    if only != "ours" and freeradius_binary() is None:
        raise BenchError("freeradius not found: install the Debian package freeradius")


def say(msg: str = "") -> None:
    print(msg, flush=True)


@contextmanager
def profiling(directory: Path | None, server: Server, name: str) -> Iterator[None]:
    """With ``--profile DIR``: py-spy samples our server (threads holding the
    GIL) while the block runs and writes DIR/ours-NAME.svg (a flame graph)."""
    if directory is None or not isinstance(server, OurServer) or server.pid is None:
        yield
        return
    raw = PROFILE_FORMAT == "raw"
    out = directory / f"{server.label}-{name}.{'txt' if raw else 'svg'}"
    pids = process_tree(server.pid)
    pid = pids[-1] if len(pids) > 1 else server.pid  # with workers: one of them
    spy = subprocess.Popen(
        [
            str(PY_SPY),
            "record",
            "--gil",
            "--nonblocking",
            "-r",
            "200",
            "-p",
            str(pid),
            "-f",
            PROFILE_FORMAT,
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # let it attach
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()
        say(f"   (profile: {out})")


def _median(values: list[float]) -> float:
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def run(args: argparse.Namespace, tmp: Path, pg_url: str = "") -> int:
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    accounts = make_accounts(args.accounts)
    distinct = min(DISTINCT_AUTH_PACKETS, args.requests)  # the repeated Access load
    auth_count = math.ceil(args.requests / distinct)
    auth_total = distinct * auth_count
    auth_file = tmp / "access-requests.txt"
    write_auth_requests(auth_file, accounts, distinct, rng)
    say(
        f"{args.accounts} accounts; Access: "
        + (f"{args.requests} Get-Account/Pre-Send-Session, each about a different account" if args.distinct else "")
        + (" and " if args.distinct and args.repetitive else "")
        + (
            f"{distinct} distinct x {auth_count} = {auth_total} requests"
            if args.repetitive or not args.distinct
            else ""
        )
        + f"; accounting: {args.requests} distinct Stops; radclient -p {args.parallel}; "
        f"{args.rounds} round(s), servers alternating; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}"
    )

    classes: list[type[Server]] = []
    if args.only != "ours":
        classes.append(FreeRadiusServer)
    if args.only != "freeradius":
        classes.append(OurServer)
        if args.pg:
            classes.append(OurPgServer)

    fb_dict = tmp / "radclient-dict"
    fb_dict.mkdir()
    (fb_dict / "dictionary").write_text(f"$INCLUDE {DICTIONARY_DIR / 'dictionary.faxback'}\n")
    sample = auth_file.read_text().split("\n\n", 1)[0] + "\n"

    servers: list[Server] = []
    runs: dict[tuple[str, str], list[LoadResult]] = {}
    failures: list[str] = []
    try:
        for cls in classes:
            server = cls(tmp / cls.label.lower(), accounts)
            if isinstance(server, OurPgServer):
                server.pg_url = pg_url
            if isinstance(server, OurServer):
                server.synchronous = args.our_synchronous
                server.decision_cache = args.our_decision_cache
                server.workers = args.our_workers
            servers.append(server)
            say(f"\n== {server.label} (auth 127.0.0.1:{server.auth_port}, acct 127.0.0.1:{server.acct_port})")
            prep = server.prepare()
            say(f"   {args.accounts} accounts loaded in {prep:.1f}s")
            start = server.start()
            say(f"   answering Status-Server {start:.1f}s after start")
            shown = radclient_show(server.auth_port, "auth", sample, fb_dict)
            received = shown[shown.find("Received") :] if "Received" in shown else ""
            head = received.splitlines()[0] if received else "no reply"
            reply_attrs = [ln.strip() for ln in received.splitlines()[1:] if ln.startswith("\t")]
            head = re.sub(r" Id \d+ from \S+ to \S+", "", head)
            say(f"   sample reply: {head}; {len(reply_attrs)} attributes:")
            say("     " + ", ".join(reply_attrs))
            if "Access-Accept" not in head:
                failures.append(f"{server.label}: sample Get-Account/Pre-Send-Session not accepted")
            # Warm-up, not counted.
            radclient_load(server.auth_port, "auth", [auth_file], 1, args.parallel, server.pid, distinct)

        def order(r: int) -> list[Server]:
            return servers if r % 2 == 0 else servers[::-1]

        def access_round(kind: str, r: int, files: list[Path], count: int, total: int) -> None:
            for server in order(r):
                with profiling(args.profile, server, f"{kind}-r{r + 1}"):
                    res = radclient_load(server.auth_port, "auth", files, count, args.parallel, server.pid, total)
                runs.setdefault((server.label, kind), []).append(res)
                say(
                    f"   {server.label:10} round {r + 1}: {res.rate:7.0f} req/s ({res.seconds:5.2f}s; "
                    f"accepted {res.accepted}, rejected {res.rejected}, lost {res.lost}; "
                    f"server CPU {res.server_cpu:.2f}s, radclient CPU {res.client_cpu:.2f}s)"
                )
                if res.accepted != total or res.lost or res.rejected:
                    failures.append(
                        f"{server.label} {kind} round {r + 1}: accepted {res.accepted}/{total}, "
                        f"rejected {res.rejected}, lost {res.lost}"
                    )

        if not args.skip_auth and args.distinct:
            say(
                f"\n== Access: Get-Account / Pre-Send-Session, {args.requests} requests per round, "
                "each about a different account"
            )
            for r in range(args.rounds):
                files = write_distinct_auth_requests(
                    tmp / f"access-distinct-{r}", accounts, args.requests, random.Random(args.seed * 7 + r)
                )
                access_round("auth", r, files, 1, args.requests)
        if not args.skip_auth and (args.repetitive or not args.distinct):
            kind = "auth-rep" if args.distinct else "auth"
            say(f"\n== Access: Get-Account / Pre-Send-Session, {distinct} requests x {auth_count} per round")
            for r in range(args.rounds):
                access_round(kind, r, [auth_file], auth_count, auth_total)
        for server in servers:
            if isinstance(server, OurServer):
                say(f"   {server.label:10} resident memory: {proc_rss_mb(server.pid):.0f} MB (all processes)")

        if not args.skip_acct:
            say(f"\n== Accounting: distinct Stops with CDR attributes, {args.requests} per round")
            for r in range(args.rounds):
                for server in order(r):
                    tag = f"r{r}{server.label[:2].lower()}"
                    stop_files = write_stop_requests(
                        tmp / f"stops-{server.label.lower()}-{r}",
                        accounts,
                        args.requests,
                        random.Random(args.seed + r),
                        tag,
                    )
                    with profiling(args.profile, server, f"stops-r{r + 1}"):
                        res = radclient_load(
                            server.acct_port, "acct", stop_files, 1, args.parallel, server.pid, args.requests
                        )
                    stored = server.cdr_count(tag)
                    runs.setdefault((server.label, "acct"), []).append(res)
                    say(
                        f"   {server.label:10} round {r + 1}: {res.rate:7.0f} Stops/s ({res.seconds:5.2f}s; "
                        f"answered {res.accepted}, lost {res.lost}, CDRs stored {stored}; "
                        f"server CPU {res.server_cpu:.2f}s, radclient CPU {res.client_cpu:.2f}s)"
                    )
                    if res.accepted != args.requests or res.lost or stored != args.requests:
                        failures.append(
                            f"{server.label} Stops round {r + 1}: answered {res.accepted}/{args.requests}, "
                            f"lost {res.lost}, stored {stored}"
                        )
            for server in servers:
                say(f"   {server.label:10} durability: {server.durability}")
    finally:
        for server in servers:
            server.stop()

    say(f"\n== summary (best of {args.rounds}; median in brackets)")
    say(f"{'':26}{'FreeRADIUS':>18}{'ours':>18}{'ours/FR':>16}")

    def cell(values: list[float] | None, fmt: str, width: int = 18) -> str:
        if not values:
            return "-".rjust(width)
        best, med = max(values), _median(values)
        text = format(best, fmt) if len(values) == 1 else f"{format(best, fmt)} [{format(med, fmt)}]"
        return text.rjust(width)

    def spread(values: list[float] | None, fmt: str, width: int = 18) -> str:
        if not values or len(values) < 2:
            return "".rjust(width)
        v = sorted(values)
        return f"{format(v[0], fmt)}/{format(_median(v), fmt)}/{format(v[-1], fmt)}".rjust(width)

    titles = (("auth", "Access requests/s"), ("auth-rep", "Access, repeated req/s"), ("acct", "Stops/s (durable CDRs)"))
    ours_labels = [label for label in ("ours", "ours-pg") if any(k[0] == label for k in runs)] or ["ours"]
    for kind, title in titles:
        for label in ours_labels:
            fr = runs.get(("FreeRADIUS", kind))
            us = runs.get((label, kind))
            if not fr and not us:
                continue
            name = title if label == "ours" else f"{title} (PostgreSQL)"
            fr_rates = [x.rate for x in fr] if fr else None
            us_rates = [x.rate for x in us] if us else None
            ratio = None
            if fr_rates and us_rates:
                ratio = [max(us_rates) / max(fr_rates)]
                if len(fr_rates) > 1:
                    ratio.append(_median(us_rates) / _median(fr_rates))
            ratio_text = "-" if not ratio else (f"{ratio[0]:.2f}" + (f" [{ratio[1]:.2f}]" if len(ratio) > 1 else ""))
            say(f"{name:26}{cell(fr_rates, '.0f')}{cell(us_rates, '.0f')}{ratio_text:>16}")
            if fr_rates and us_rates and len(fr_rates) == len(us_rates) and len(us_rates) > 1:
                per_round = [u / f for u, f in zip(us_rates, fr_rates)]
                say(
                    f"{'  min/median/max':26}{spread(fr_rates, '.0f')}{spread(us_rates, '.0f')}"
                    f"{spread(per_round, '.2f', 16)}"
                )
            cpu_fr = [x.server_cpu / x.requests * 1e6 for x in fr] if fr else None
            cpu_us = [x.server_cpu / x.requests * 1e6 for x in us] if us else None
            cpu_ratio = f"{min(cpu_fr) / min(cpu_us):.2f}" if cpu_fr and cpu_us else ""
            say(
                f"{'  server CPU us/request':26}{cell(cpu_fr and [min(cpu_fr)], '.1f')}"
                f"{cell(cpu_us and [min(cpu_us)], '.1f')}{cpu_ratio:>16}"
            )
    say(f"(load average now {os.getloadavg()[0]:.2f}; total wall time {time.perf_counter() - t0:.0f}s)")
    if failures:
        say("\nFAILED checks:\n  " + "\n  ".join(failures))
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        check_peers(args.only)
        if args.profile is not None:
            global PY_SPY, PROFILE_FORMAT
            found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
            if found is None:
                raise BenchError("--profile needs py-spy on PATH (pip install py-spy, in any venv)")
            PY_SPY = Path(found)
            PROFILE_FORMAT = args.profile_format
            args.profile = args.profile.resolve()
            args.profile.mkdir(parents=True, exist_ok=True)
    except BenchError as exc:
        print(f"radius_vs_freeradius: {exc}", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="radius-bench-"))
    try:
        with postgres_cluster(args.pg) as pg_url:
            return run(args, tmp, pg_url)
    except (BenchError, FreeRadiusError) as exc:
        print(f"radius_vs_freeradius: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("radius_vs_freeradius: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:
        if exc.code == 128 + signal.SIGTERM:
            print("radius_vs_freeradius: terminated", file=sys.stderr)
        raise
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
