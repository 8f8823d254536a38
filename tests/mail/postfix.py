"""A throwaway Postfix instance (Debian package postfix) on a loopback port that
delivers every mail for example.test and localhost into one Maildir."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.peers import require_program


class Postfix:
    def __init__(self, base: Path, port: int) -> None:
        self.postfix = require_program("postfix", "postfix")
        if os.geteuid() != 0:
            import pytest

            pytest.skip("a private Postfix instance needs root (its daemons change user)")
        import tempfile

        # its daemons run as postfix/nobody: the directory must be reachable (pytest's tmp_path is not)
        base = Path(tempfile.mkdtemp(prefix="faxappliance-postfix-"))
        self.base, self.port = base, port
        self.conf = base / "conf"
        self.maildir = base / "mail" / "box"
        for d in (self.conf, base / "queue", base / "data", base / "mail"):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(base, 0o755)
        shutil.chown(base / "data", "postfix")
        shutil.chown(base / "mail", "nobody", "nogroup")
        master = Path("/etc/postfix/master.cf").read_text()
        lines = [ln for ln in master.splitlines() if not ln.startswith("smtp      inet")]
        lines += [f"127.0.0.1:{port} inet n - n - - smtpd", "postlog unix-dgram n - n - 1 postlogd"]
        (self.conf / "master.cf").write_text("\n".join(dict.fromkeys(lines)) + "\n")
        (self.conf / "main.cf").write_text(f"""compatibility_level = 3.6
queue_directory = {base}/queue
data_directory = {base}/data
myhostname = relay.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
virtual_mailbox_domains = example.test, localhost
virtual_mailbox_base = {base}/mail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
maillog_file = {base}/maillog
maillog_file_prefixes = {base}
alias_maps =
alias_database =
local_recipient_maps =
smtputf8_enable = no
biff = no
""")

    def _cmd(self, action: str) -> None:
        subprocess.run(
            ["script", "-qc", f"{self.postfix} -c {self.conf} {action}", "/dev/null"],
            capture_output=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    def start(self) -> Postfix:
        self._cmd("start")
        import socket

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"postfix did not listen on {self.port}: {self.log()[-2000:]}")

    def stop(self) -> None:
        self._cmd("stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def log(self) -> str:
        path = self.base / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def mails(self) -> list[Path]:
        new = self.maildir / "new"
        return sorted(new.iterdir()) if new.exists() else []
