"""Probe: identify a modem and pick Class 2.0 over Class 2 (sans-I/O; spec §0, §13).

``ATI``/``ATI3`` identification, ``+FCLASS=?``, the class command, the
manufacturer/model/revision queries and the ``+FCC=?`` capability ranges.
"""

from __future__ import annotations

from typing import ClassVar

from modem._session import Cmd, Session
from modem._session_types import Outcome, Output, ProbeResult, SessionConfig, State
from modem.dialect import DIALECTS, FaxClass, Kind
from modem.params import Caps, parse_caps

__all__ = ["ProbeSession"]


class ProbeSession(Session):
    """Identify the modem and pick Class 2.0 over Class 2 (spec §0, §13)."""

    TABLE: ClassVar[dict[tuple[State, Kind], str]] = {**Session.COMMAND_TABLE}

    def __init__(self, config: SessionConfig, *, force_class: FaxClass | None = None) -> None:
        super().__init__(DIALECTS[FaxClass.CLASS20], config)
        self.force_class = force_class
        self.classes: tuple[str, ...] = ()

    def start(self) -> list[Output]:
        self._begin()
        script = [Cmd(c, optional=True) for c in self.config.init_strings]
        script += [
            Cmd("ATI", optional=True, capture="ati"),
            Cmd("ATI3", optional=True, capture="ati3"),
            Cmd("AT+FCLASS=?", capture="classes"),
        ]
        return self._run_script(script, self._classes_known)

    def _classes_known(self) -> list[Output]:
        text = ",".join(self.captured.get("classes", []))
        classes = tuple(c.strip() for c in text.replace("(", "").replace(")", "").split(",") if c.strip())
        self.classes = classes
        chosen: FaxClass | None = None
        if self.force_class is not None:
            chosen = self.force_class if self.force_class.value in classes else None
        else:
            chosen = next(
                (fc for fc in (FaxClass.CLASS21, FaxClass.CLASS20, FaxClass.CLASS2) if fc.value in classes), None
            )
        if chosen is None:
            wanted = self.force_class.value if self.force_class else "2.1, 2.0 or 2"
            return self._finish(Outcome.NOT_FAX, f"modem offers classes {text!r}, not {wanted}")
        self.dialect = DIALECTS[chosen]
        script = [Cmd(f"AT+FCLASS={chosen.value}")]
        script += [Cmd(f"AT{q}", optional=True, capture=q) for q in self.dialect.ident_queries]
        script.append(Cmd(f"AT{self.dialect.caps}=?", optional=True, capture="caps"))
        return self._run_script(script, self._probe_complete)

    def _probe_complete(self) -> list[Output]:
        caps: Caps | None = None
        caps_text = "".join(self.captured.get("caps", []))
        if caps_text:
            try:
                caps = parse_caps(caps_text)
            except ValueError:
                caps = None
        ident = tuple(self.captured.get("ati", []) + self.captured.get("ati3", []))
        queries = self.dialect.ident_queries
        info = [" ".join(self.captured.get(q, [])) for q in queries]
        self.probe = ProbeResult(
            fax_class=self.dialect.fax_class,
            classes=self.classes,
            identification=ident,
            manufacturer=info[0],
            model=info[1],
            revision=info[2],
            caps=caps,
        )
        return self._finish(Outcome.OK, "modem identified")
