"""Executing parsed AT commands of the simulated modem.

Basic commands, S-registers and the ``+F`` parameters, which only read or
set values, run here from tables keyed by name; the commands that move the
modem (:class:`hwsim._context.Cmd`: ``D``, ``A``, ``H``, ``Z``, ``+FDT``,
``+FDR``, ``+FK``/``+FKS``, ``+FET=``) go to the transition table through
the ``act`` callback.  A failing command answers ``ERROR`` and stops the rest
of its line; an action command ends the line and gives its result later.
"""

from __future__ import annotations

from collections.abc import Callable

from . import _at
from ._context import COMMAND_STATES, Cmd, ModemContext

Act = Callable[[Cmd, _at.Command], None]

# Basic commands accepted and ignored (speaker, result sets, DTR/DCD, flow control...).
_NOOP_BASIC = frozenset("BLMNPTWXY") | {"&C", "&D", "&K", "&E", "&H", "&R", "&S", "&W", "&V", "\\Q", "\\N"}
_IDENT = {
    "FMI": "manufacturer", "FMFR": "manufacturer", "GMI": "manufacturer",
    "FMM": "model", "FMDL": "model", "GMM": "model",
    "FMR": "revision", "FREV": "revision", "GMR": "revision",
}  # fmt: skip
_BASIC_ACTIONS = {"A": Cmd.ANSWER, "H": Cmd.HANGUP, "Z": Cmd.RESET, "&F": Cmd.RESET}
# Fax action commands by class (T.32 for 2.0/2.1, SP-2388 for Class 2)
_ACTIONS_20 = {"FDT": Cmd.FDT, "FDR": Cmd.FDR, "FKS": Cmd.FK}
_ACTIONS = {"2.0": _ACTIONS_20, "2.1": _ACTIONS_20, "2": {"FDT": Cmd.FDT, "FDR": Cmd.FDR, "FK": Cmd.FK, "FET": Cmd.FET}}
# ``=?`` of an action command: the allowed values (T.32 §8.3: OK alone when it takes none)
_ACTION_TESTS = {"FET": "(0-2)"}


def execute(ctx: ModemContext, commands: list[_at.Command], act: Act) -> None:
    """Run one command line; emit its results."""
    for command in commands:
        try:
            done = _one(ctx, command, act)
        except _at.CommandError:
            ctx.result("ERROR")
            return
        if done or ctx.state not in COMMAND_STATES:
            return  # an action command took over the line
    ctx.result("OK")


def _one(ctx: ModemContext, command: _at.Command, act: Act) -> bool:
    """Run one command; True when it produced its own final result."""
    if isinstance(command, _at.DialCmd):
        act(Cmd.DIAL, command)
        return True
    if isinstance(command, _at.SReg):
        _sreg(ctx, command)
        return False
    if isinstance(command, _at.Basic):
        action = _BASIC_ACTIONS.get(command.name)
        if action is not None:
            act(action, command)
            return action.ends_line
        handler = _BASIC.get(command.name)
        if handler is not None:
            return handler(ctx, command.arg or 0)
        if command.name not in _NOOP_BASIC:
            raise _at.CommandError(f"unknown command {command.name}")
        return False
    return _extended(ctx, command, act)


def _sreg(ctx: ModemContext, command: _at.SReg) -> None:
    if not 0 <= command.reg <= 255:
        raise _at.CommandError(f"no register S{command.reg}")
    if command.value is None:
        ctx.info(f"{ctx.sregs.get(command.reg, 0):03d}")
    elif not 0 <= command.value <= 255:
        raise _at.CommandError(f"S{command.reg} value out of range")
    else:
        ctx.sregs[command.reg] = command.value


def _echo(ctx: ModemContext, arg: int) -> bool:
    ctx.echo = arg == 1
    return False


def _verbose(ctx: ModemContext, arg: int) -> bool:
    ctx.verbose = arg == 1
    return False


def _quiet(ctx: ModemContext, arg: int) -> bool:
    ctx.quiet = arg == 1
    return False


def _identify(ctx: ModemContext, arg: int) -> bool:
    ctx.info(ctx.config.ati3 if arg == 3 else ctx.config.ati)
    return False


def _online(ctx: ModemContext, _arg: int) -> bool:
    ctx.result("NO CARRIER")  # no data call to go back to
    return True


_BASIC: dict[str, Callable[[ModemContext, int], bool]] = {
    "E": _echo,
    "V": _verbose,
    "Q": _quiet,
    "I": _identify,
    "O": _online,
}


def _fclass(ctx: ModemContext, command: _at.Extended) -> None:
    offered = {"2.1": ("0", "2", "2.0", "2.1"), "2.0": ("0", "2", "2.0")}.get(ctx.config.fax_class, ("0", "2"))
    if command.op is _at.Op.TEST:
        ctx.info(",".join(offered))
    elif command.op is _at.Op.READ:
        ctx.info(ctx.fclass)
    elif command.op is _at.Op.SET:
        value = command.value.strip()
        value = {"2.00": "2.0", "00": "0"}.get(value, value)
        if value not in offered:
            raise _at.CommandError(f"class {value!r} not offered")
        ctx.fclass = value
    else:
        raise _at.CommandError("+FCLASS needs =, ? or =?")


def _caller_id(ctx: ModemContext, command: _at.Extended) -> None:
    if command.op is _at.Op.SET:
        ctx.caller_id_on = command.value.strip() not in ("", "0")
    elif command.op is _at.Op.READ:
        ctx.info("1" if ctx.caller_id_on else "0")
    elif command.op is _at.Op.TEST:
        ctx.info("(0-2)")


_SPECIAL: dict[str, Callable[[ModemContext, _at.Extended], None]] = {
    "FCLASS": _fclass,
    "VCID": _caller_id,
    "CID": _caller_id,
}


def _extended(ctx: ModemContext, command: _at.Extended, act: Act) -> bool:
    name, op, fclass = command.name, command.op, ctx.fclass
    special = _SPECIAL.get(name)
    if special is not None:
        special(ctx, command)
        return False
    if name in _IDENT and op in (_at.Op.READ, _at.Op.EXEC):
        ctx.info(getattr(ctx.config, _IDENT[name]))
        return False
    if name == "FAXERR" and op is _at.Op.READ and fclass in ("2", "2.0", "2.1"):
        ctx.info(str(ctx.last_hangup))  # the last hangup code, decimal (Class 2 numbering)
        return False
    action = _ACTIONS.get(fclass, {}).get(name)
    if action is not None:
        if op is _at.Op.TEST:
            if name in _ACTION_TESTS:
                ctx.info(_ACTION_TESTS[name])
            return False
        if op is _at.Op.EXEC or (op is _at.Op.SET and action is Cmd.FET):
            act(action, command)
            return True
    if name == "FIP" and fclass in ("2.0", "2.1") and op in (_at.Op.EXEC, _at.Op.TEST):
        if op is _at.Op.EXEC:
            ctx.values.update({p.key: p.default for p in _at.PARAMS if p.key != "FHS"})
        return False
    _parameter(ctx, command)
    return False


def _parameter(ctx: ModemContext, command: _at.Extended) -> None:
    name, op, fclass = command.name, command.op, ctx.fclass
    param = _at.param_index(fclass).get(name)
    if param is None:
        raise _at.CommandError(f"unknown command +{name} in class {fclass}")
    if op is _at.Op.TEST:
        ctx.info(_at.CAPS_TEST_21 if fclass == "2.1" and param.test == _at.CAPS_TEST else param.test)
    elif op is _at.Op.READ and param.key == "FHS":
        ctx.info(ctx.last_hangup_text or ("0" if fclass == "2" else "00"))
    elif op is _at.Op.READ:
        ctx.info(_at.format_value(ctx.values[param.key], hex_values=fclass != "2" and not param.decimal))
    elif op is _at.Op.SET and not param.read_only:
        base = 10 if fclass == "2" or param.decimal else 16
        value = _at.parse_value(param, command.value, ctx.values[param.key], base)
        if param.key == "IPR" and isinstance(value, tuple) and value[0] not in _at.IPR_RATES:
            raise _at.CommandError(f"+IPR={value[0]}: not a supported rate")
        if param.test == _at.CAPS_TEST and isinstance(value, tuple):
            if value[1] > 5 and fclass != "2.1":
                raise _at.CommandError("bit rates above 14400 (V.34) need class 2.1")
            if value[4] == 2:
                raise _at.CommandError("2-D uncompressed mode (df=2) is not supported")
        ctx.values[param.key] = value
        if param.key == "FCC":
            ctx.values["FIS"] = value
    else:
        raise _at.CommandError(f"+{name} cannot be {op.value}")
