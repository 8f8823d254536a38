"""Drive a session machine through a recorded modem transcript (spec §6-§7)."""

from __future__ import annotations

from dataclasses import dataclass, field

from modem import class2 as c2


@dataclass
class Transcript:
    """Feeds the reply of each expected write; records everything the session did."""

    session: c2.Session
    steps: list[tuple[str, bytes | str]]
    writes: list[str] = field(default_factory=list)
    data: list[bytes] = field(default_factory=list)
    timers: dict[str, float] = field(default_factory=dict)
    result: c2.SessionResult | None = None

    inbox: list[bytes | str] = field(default_factory=list)

    def run(self) -> c2.SessionResult:
        self.pump(self.session.start())
        assert self.result is not None, f"session not done; writes={self.writes}"
        assert not self.steps, f"unused steps {self.steps}"
        return self.result

    def pump(self, outputs: list[c2.Output]) -> None:
        """Apply outputs in order; then deliver the modem's replies one by one."""
        pending = list(outputs)
        while pending or self.inbox:
            while pending:
                self._apply(pending.pop(0))
            if self.inbox:
                pending = self._deliver(self.inbox.pop(0))

    def _deliver(self, reply: bytes | str) -> list[c2.Output]:
        if isinstance(reply, str):  # the modem stays silent: this timer fires
            assert reply in self.timers, f"timer {reply!r} not running ({self.timers})"
            return self.session.timer_expired(reply)
        out_list: list[c2.Output] = []
        for i in range(len(reply)):  # byte by byte: chunking must not matter
            out_list += self.session.receive_bytes(reply[i : i + 1])
        return out_list

    def _apply(self, out: c2.Output) -> None:
        if isinstance(out, c2.StartTimer):
            self.timers[out.name] = out.seconds
            return
        if isinstance(out, c2.CancelTimer):
            self.timers.pop(out.name, None)
            return
        if isinstance(out, c2.Flow):
            return
        if isinstance(out, c2.SessionDone):
            self.result = out.result
            self.timers.clear()  # the adapter cancels every timer on SessionDone
            return
        if isinstance(out, c2.WriteAT):
            label = out.command
        else:
            self.data.append(out.data)
            label = "<data>" if len(out.data) > 1 else f"<{out.data.hex()}>"
        self.writes.append(label)
        assert self.steps, f"session wrote {label!r} after the transcript ended"
        expect, reply = self.steps.pop(0)
        assert label == expect, f"expected {expect!r}, session wrote {label!r}"
        if reply:
            self.inbox.append(reply)


def r(*lines: str) -> bytes:
    """Modem reply lines framed as with ATV1."""
    return b"".join(b"\r\n" + line.encode("latin-1") + b"\r\n" for line in lines)
