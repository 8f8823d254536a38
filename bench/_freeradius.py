"""A throwaway FreeRADIUS 3.x instance for benchmarks and interop checks.

:class:`FreeRadius` writes a minimal raddb tree into a directory of its own
(never touching the system's ``/etc/freeradius``), starts ``freeradius`` in the
foreground on the given loopback ports, waits until it answers
Status-Server, and stops it again.

The tree holds only what the run needs:

* ``radiusd.conf`` built from the Debian defaults (``/usr`` prefix, module
  library directory, thread pool, ``max_requests``, ``cleanup_delay``), with
  the log, run and accounting directories moved into the temp tree;
* ``dictionary`` that ``$INCLUDE``\\ s the product's FaxBack dictionary, so the
  server knows the FB-* attributes;
* one client (``127.0.0.1`` with the given secret);
* one virtual server: ``authorize { files }`` (a users file, typically with
  ``Auth-Type := Accept`` and the reply attributes per account),
  ``accounting { detail }`` (or ``linelog``), listening on the given ports.

Also here: :func:`status_server`, a tiny RFC 5997 Status-Server probe that
works against any RADIUS server (it signs with Message-Authenticator), and
:func:`free_udp_ports`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "FreeRadius",
    "FreeRadiusError",
    "free_udp_ports",
    "freeradius_binary",
    "status_server",
    "users_entry",
]

DEBIAN_RADDB = Path("/etc/freeradius/3.0")
FAXBACK_DICTIONARY = Path(__file__).resolve().parent.parent / "dictionary" / "dictionary.faxback"


class FreeRadiusError(RuntimeError):
    pass


def freeradius_binary() -> str | None:
    """Path of the FreeRADIUS daemon (``freeradius`` on Debian, ``radiusd`` elsewhere)."""
    for name in ("freeradius", "radiusd"):
        found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}",) if os.access(p, os.X_OK)), None)
        if found:
            return found
    return None


def free_udp_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct UDP ports that are free right now (high, ephemeral)."""
    socks: list[socket.socket] = []
    try:
        ports: list[int] = []
        while len(ports) < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((host, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
        return ports
    finally:
        for s in socks:
            s.close()


# ------------------------------------------------------------ Status-Server

_STATUS_SERVER = 12


def status_server(host: str, port: int, secret: bytes, timeout: float = 0.5) -> int | None:
    """Send one Status-Server (with Message-Authenticator); the reply code or None.

    Access-Accept (2) comes back from an auth port, Accounting-Response (5)
    from an accounting port.  The reply's Response Authenticator is checked.
    """
    ident = os.urandom(1)[0]
    authenticator = os.urandom(16)
    length = 20 + 18
    header = struct.pack("!BBH", _STATUS_SERVER, ident, length) + authenticator
    ma_zero = bytes([80, 18]) + bytes(16)
    mac = hmac.new(secret, header + ma_zero, hashlib.md5).digest()
    packet = header + bytes([80, 18]) + mac
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(packet, (host, port))
            data, _ = sock.recvfrom(4096)
        except (TimeoutError, ConnectionRefusedError, OSError):
            return None
    if len(data) < 20 or data[1] != ident:
        return None
    code, _, rlen = struct.unpack("!BBH", data[:4])
    expect = hashlib.md5(data[:4] + authenticator + data[20:rlen] + secret).digest()
    if not hmac.compare_digest(expect, data[4:20]):
        return None
    return code


# ---------------------------------------------------------------- users file


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def users_entry(name: str, check: dict[str, object], reply: dict[str, object]) -> str:
    """One entry of a ``files`` users file (integers unquoted, strings quoted)."""

    def item(k: str, v: object, op: str, quote: bool = True) -> str:
        return f"{k} {op} {v if isinstance(v, int) or not quote else _quote(str(v))}"

    # Check items are enumeration names or numbers: unquoted.
    head = " ".join([name] + [", ".join(item(k, v, ":=", False) for k, v in check.items())])
    lines = [head.rstrip()]
    items = [item(k, v, "=") for k, v in reply.items()]
    for i, text in enumerate(items):
        lines.append("\t" + text + ("," if i < len(items) - 1 else ""))
    return "\n".join(lines) + "\n\n"


# ------------------------------------------------------------------ instance


@dataclass
class FreeRadius:
    """A FreeRADIUS instance living in ``workdir`` (created if needed).

    ``users`` is the text of the ``files`` module's users file (or set
    ``users_path`` to an existing file).  ``accounting`` is ``"detail"``,
    ``"linelog"`` or ``"none"``.
    """

    workdir: Path
    auth_port: int
    acct_port: int
    secret: str
    users: str = ""
    users_path: Path | None = None
    accounting: str = "detail"
    listen: str = "127.0.0.1"
    client: str = "127.0.0.1"
    dictionary: Path = FAXBACK_DICTIONARY
    start_servers: int = 5
    max_servers: int = 32
    extra_log: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None

    # ---------------------------------------------------------------- config
    @property
    def raddb(self) -> Path:
        return Path(self.workdir) / "raddb"

    @property
    def radacct(self) -> Path:
        return Path(self.workdir) / "radacct"

    @property
    def log_path(self) -> Path:
        return Path(self.workdir) / "freeradius.log"

    def write_config(self) -> None:
        if not DEBIAN_RADDB.is_dir():
            raise FreeRadiusError(f"{DEBIAN_RADDB} not found: install the Debian package freeradius")
        work = Path(self.workdir).resolve()
        raddb = self.raddb
        for d in (raddb, work / "run", work / "log", self.radacct):
            d.mkdir(parents=True, exist_ok=True)
        users_file = self.users_path or raddb / "users"
        if self.users_path is None:
            (raddb / "users").write_text(self.users, encoding="utf-8")
        (raddb / "dictionary").write_text(
            "# Site dictionary: the FaxBack vendor attributes of this product.\n"
            f"$INCLUDE {Path(self.dictionary).resolve()}\n",
            encoding="utf-8",
        )
        if self.accounting == "detail":
            # The Debian mods-available/detail settings, file moved into workdir.
            acct_module = (
                "\tdetail {\n"
                "\t\tfilename = ${radacctdir}/%{%{Packet-Src-IP-Address}:-%{Packet-Src-IPv6-Address}}/detail-%Y%m%d\n"
                "\t\tescape_filenames = no\n"
                "\t\tpermissions = 0600\n"
                '\t\theader = "%t"\n'
                "\t}\n"
            )
        elif self.accounting == "linelog":
            acct_module = (
                "\tlinelog {\n"
                "\t\tfilename = ${radacctdir}/linelog\n"
                "\t\tpermissions = 0600\n"
                '\t\tformat = "%{User-Name} %{Acct-Session-Id} %{Acct-Status-Type} '
                '%{FB-Page-Count} %{FB-Total-Seconds} %{FB-Dial-Number} %{FB-Is-Send}"\n'
                "\t}\n"
            )
        elif self.accounting == "none":
            acct_module = ""
        else:
            raise ValueError(f"accounting must be detail, linelog or none, not {self.accounting!r}")
        acct_section = self.accounting if self.accounting != "none" else "ok"
        conf = f"""# Minimal FreeRADIUS configuration for a benchmark run (generated).
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = {work}
sbindir = ${{exec_prefix}}/sbin
logdir = {work}/log
raddbdir = {raddb}
radacctdir = {self.radacct}
name = freeradius
confdir = ${{raddbdir}}
modconfdir = ${{confdir}}/mods-config
run_dir = {work}/run
db_dir = ${{raddbdir}}
libdir = /usr/lib/freeradius
pidfile = ${{run_dir}}/freeradius.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 16384
hostname_lookups = no

log {{
\tdestination = stdout
\tcolourise = no
\tstripped_names = no
\tauth = no
\tauth_badpass = no
\tauth_goodpass = no
}}

security {{
\tallow_core_dumps = no
\tmax_attributes = 200
\treject_delay = 0
\tstatus_server = yes
}}

proxy_requests = no

client bench {{
\tipaddr = {self.client}
\tsecret = {_quote(self.secret)}
\trequire_message_authenticator = no
\tnas_type = other
}}

thread pool {{
\tstart_servers = {self.start_servers}
\tmax_servers = {self.max_servers}
\tmin_spare_servers = 3
\tmax_spare_servers = 10
\tmax_requests_per_server = 0
\tauto_limit_acct = no
}}

modules {{
\talways ok {{
\t\trcode = ok
\t}}
\tfiles {{
\t\tfilename = {users_file}
\t\tacctusersfile = {raddb}/acct_users
\t}}
{acct_module}}}

instantiate {{
}}

server bench {{
\tlisten {{
\t\ttype = auth
\t\tipaddr = {self.listen}
\t\tport = {self.auth_port}
\t}}
\tlisten {{
\t\ttype = acct
\t\tipaddr = {self.listen}
\t\tport = {self.acct_port}
\t}}
\tauthorize {{
\t\tfiles
\t}}
\tauthenticate {{
\t}}
\tpreacct {{
\t}}
\taccounting {{
\t\t{acct_section}
\t}}
\tpost-auth {{
\t\tPost-Auth-Type REJECT {{
\t\t\tok
\t\t}}
\t}}
}}
"""
        (raddb / "acct_users").write_text("", encoding="utf-8")
        (raddb / "radiusd.conf").write_text(conf, encoding="utf-8")

    # ---------------------------------------------------------- start / stop
    def check_config(self) -> None:
        """``freeradius -C``: fail with the server's own words when the tree is wrong."""
        binary = freeradius_binary()
        if binary is None:
            raise FreeRadiusError("freeradius not found: install the Debian package freeradius")
        res = subprocess.run(
            [binary, "-C", "-d", str(self.raddb), "-n", "radiusd", "-l", "stdout"],
            capture_output=True,
            text=True,
        )
        if res.returncode != 0:
            tail = "\n".join((res.stdout + res.stderr).splitlines()[-20:])
            raise FreeRadiusError(f"freeradius -C failed:\n{tail}")

    def start(self, timeout: float = 120.0) -> None:
        binary = freeradius_binary()
        if binary is None:
            raise FreeRadiusError("freeradius not found: install the Debian package freeradius")
        self.write_config()
        with open(self.log_path, "wb") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [binary, "-f", "-d", str(self.raddb), "-n", "radiusd", "-l", "stdout"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        secret = self.secret.encode()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise FreeRadiusError(f"freeradius exited with status {self.proc.returncode}:\n{self.log_tail()}")
            if (
                status_server(self.listen, self.auth_port, secret) == 2
                and status_server(self.listen, self.acct_port, secret) == 5
            ):
                return
            time.sleep(0.2)
        self.stop()
        raise FreeRadiusError(f"freeradius did not answer Status-Server within {timeout:g}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> FreeRadius:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
