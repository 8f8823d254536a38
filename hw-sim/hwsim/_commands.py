"""Executing parsed AT commands on a :class:`hwsim.modem.SimModem`.

Basic commands, S-registers and the ``+F`` parameters live here; the call
and page flows (``D``, ``A``, ``+FDT``, ``+FDR``, ``+FET``, ``+FK``/``+FKS``)
are in :mod:`hwsim._session`.  A failing command answers ``ERROR`` and stops
the rest of its line; an action command ends the line and gives its result
later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _at, _session
from .line import Hangup

if TYPE_CHECKING:
    from .modem import SimModem

# Basic commands accepted and ignored (speaker, result sets, DTR/DCD, flow control...).
_NOOP_BASIC = frozenset("BLMNPTWXY") | {"&C", "&D", "&K", "&E", "&H", "&R", "&S", "&W", "&V", "\\Q", "\\N"}
_IDENT = {
    "FMI": "manufacturer", "FMFR": "manufacturer", "GMI": "manufacturer",
    "FMM": "model", "FMDL": "model", "GMM": "model",
    "FMR": "revision", "FREV": "revision", "GMR": "revision",
}  # fmt: skip
_ACTIONS = {"FDT", "FDR", "FKS", "FK", "FET"}
# ``=?`` of an action command: the allowed values (T.32 §8.3: OK alone when it takes none)
_ACTION_TESTS = {"FET": "(0-2)"}


def execute(modem: SimModem, commands: list[_at.Command]) -> None:
    """Run one command line; emit its results."""
    from .modem import COMMAND_STATES

    for command in commands:
        try:
            done = _one(modem, command)
        except _at.CommandError:
            modem._result("ERROR")
            return
        if done or modem._state not in COMMAND_STATES:
            return  # an action command took over the line
    modem._result("OK")


def _one(modem: SimModem, command: _at.Command) -> bool:
    """Run one command; True when it produced its own final result."""
    if isinstance(command, _at.DialCmd):
        _session.dial(modem, command.dial_string)
        return True
    if isinstance(command, _at.SReg):
        return _sreg(modem, command)
    if isinstance(command, _at.Basic):
        return _basic(modem, command)
    return _extended(modem, command)


def _sreg(modem: SimModem, command: _at.SReg) -> bool:
    if not 0 <= command.reg <= 255:
        raise _at.CommandError(f"no register S{command.reg}")
    if command.value is None:
        modem._info(f"{modem._sregs.get(command.reg, 0):03d}")
    elif not 0 <= command.value <= 255:
        raise _at.CommandError(f"S{command.reg} value out of range")
    else:
        modem._sregs[command.reg] = command.value
    return False


def _basic(modem: SimModem, command: _at.Basic) -> bool:
    name, arg = command.name, command.arg or 0
    if name == "E":
        modem._echo = arg == 1
    elif name == "V":
        modem._verbose = arg == 1
    elif name == "Q":
        modem._quiet = arg == 1
    elif name in ("Z", "&F"):
        if modem._state is not modem._state.IDLE:
            modem._emit(Hangup())
            modem._go_idle()
        modem._reset()
    elif name == "H":
        if modem._state is not modem._state.IDLE:
            modem._emit(Hangup())
            modem._go_idle()
    elif name == "A":
        _session.answer(modem)
        return True
    elif name == "I":
        modem._info(modem.config.ati3 if arg == 3 else modem.config.ati)
    elif name == "O":
        modem._result("NO CARRIER")
        return True
    elif name not in _NOOP_BASIC:
        raise _at.CommandError(f"unknown command {name}")
    return False


def _extended(modem: SimModem, command: _at.Extended) -> bool:
    name, op = command.name, command.op
    if name == "FCLASS":
        return _fclass(modem, command)
    if name in _IDENT and op in (_at.Op.READ, _at.Op.EXEC):
        modem._info(getattr(modem.config, _IDENT[name]))
        return False
    if name in ("VCID", "CID"):
        if op is _at.Op.SET:
            modem._caller_id_on = command.value.strip() not in ("", "0")
        elif op is _at.Op.READ:
            modem._info("1" if modem._caller_id_on else "0")
        elif op is _at.Op.TEST:
            modem._info("(0-2)")
        return False
    fclass = modem._fclass
    if name == "FAXERR" and op is _at.Op.READ and fclass in ("2", "2.0", "2.1"):
        modem._info(str(modem._last_hangup))  # the last hangup code, decimal (Class 2 numbering)
        return False
    if name in _ACTIONS and _action_allowed(fclass, name):
        if op is _at.Op.TEST:
            if name in _ACTION_TESTS:
                modem._info(_ACTION_TESTS[name])
            return False
        if name == "FET" and op is _at.Op.SET:
            _session.post_page_command(modem, command.value)
            return True
        if op is _at.Op.EXEC:
            _session.fax_action(modem, name)
            return True
    if name == "FIP" and fclass in ("2.0", "2.1") and op in (_at.Op.EXEC, _at.Op.TEST):
        if op is _at.Op.EXEC:
            modem._values.update({p.key: p.default for p in _at.PARAMS if p.key != "FHS"})
        return False
    param = _at.param_index(fclass).get(name)
    if param is None:
        raise _at.CommandError(f"unknown command +{name} in class {fclass}")
    if op is _at.Op.TEST:
        modem._info(_at.CAPS_TEST_21 if fclass == "2.1" and param.test == _at.CAPS_TEST else param.test)
    elif op is _at.Op.READ and param.key == "FHS":
        modem._info(modem._last_hangup_text or ("0" if fclass == "2" else "00"))
    elif op is _at.Op.READ:
        modem._info(_at.format_value(modem._values[param.key], hex_values=fclass != "2" and not param.decimal))
    elif op is _at.Op.SET and not param.read_only:
        base = 10 if fclass == "2" or param.decimal else 16
        value = _at.parse_value(param, command.value, modem._values[param.key], base)
        if param.key == "IPR" and isinstance(value, tuple) and value[0] not in _at.IPR_RATES:
            raise _at.CommandError(f"+IPR={value[0]}: not a supported rate")
        if param.test == _at.CAPS_TEST and isinstance(value, tuple):
            if value[1] > 5 and fclass != "2.1":
                raise _at.CommandError("bit rates above 14400 (V.34) need class 2.1")
            if value[4] == 2:
                raise _at.CommandError("2-D uncompressed mode (df=2) is not supported")
        modem._values[param.key] = value
        if param.key == "FCC":
            modem._values["FIS"] = value
    else:
        raise _at.CommandError(f"+{name} cannot be {op.value}")
    return False


def _action_allowed(fclass: str, name: str) -> bool:
    if fclass in ("2.0", "2.1"):
        return name in ("FDT", "FDR", "FKS")
    if fclass == "2":
        return name in ("FDT", "FDR", "FK", "FET")
    return False


def _fclass(modem: SimModem, command: _at.Extended) -> bool:
    offered = {"2.1": ("0", "2", "2.0", "2.1"), "2.0": ("0", "2", "2.0")}.get(modem.config.fax_class, ("0", "2"))
    if command.op is _at.Op.TEST:
        modem._info(",".join(offered))
    elif command.op is _at.Op.READ:
        modem._info(modem._fclass)
    elif command.op is _at.Op.SET:
        value = command.value.strip()
        value = {"2.00": "2.0", "00": "0"}.get(value, value)
        if value not in offered:
            raise _at.CommandError(f"class {value!r} not offered")
        modem._fclass = value
    else:
        raise _at.CommandError("+FCLASS needs =, ? or =?")
    return False
