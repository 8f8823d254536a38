"""The simulated modem's transition table, driven directly (no ptys, no clock)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hwsim
from hwsim import _at
from hwsim._commands import execute
from hwsim._context import (
    COMMAND_STATES,
    NO_RESPONSE_CODE,
    Cmd,
    HangupCode,
    ModemContext,
    Role,
    State,
    Step,
    ToDTE,
    hangup_report,
)
from hwsim._t30 import DEFAULT_T30
from hwsim._table import DTE_DATA, TABLE, Rule, UndeclaredTransition, dispatch
from hwsim.line import Caps, RemoteHangup, StationInfo
from hwsim.modem import ModemConfig

HWSIM = Path(hwsim.__file__).parent
CAPS: Caps = (1, 5, 0, 2, 0, 0, 0, 0)
REMOTE = StationInfo("5550002", CAPS)

# A representative parsed command for each command event.
COMMANDS: dict[Cmd, _at.Command] = {
    Cmd.DIAL: _at.DialCmd("5550002"),
    Cmd.ANSWER: _at.Basic("A", None),
    Cmd.HANGUP: _at.Basic("H", None),
    Cmd.RESET: _at.Basic("Z", None),
    Cmd.FDT: _at.Extended("FDT", _at.Op.EXEC),
    Cmd.FDR: _at.Extended("FDR", _at.Op.EXEC),
    Cmd.FK: _at.Extended("FKS", _at.Op.EXEC),
    Cmd.FET: _at.Extended("FET", _at.Op.SET, "2"),
}


def context(state: State, role: Role = Role.TX) -> ModemContext:
    """A modem in ``state``, in Class 2.0, with T.30 timing (steps wait for their timer,
    so one event makes exactly one transition)."""
    ctx = ModemContext(ModemConfig(t30=DEFAULT_T30), "5550001")
    ctx.fclass = ctx.call.fax_class = "2.0"
    if state not in (State.IDLE, State.DIALING, State.RINGING, State.ANSWERING):
        ctx.call.role, ctx.call.remote = role, REMOTE
    ctx.state = state
    return ctx


def dte_text(ctx: ModemContext) -> str:
    data = b"".join(o.data for o in ctx.outputs if isinstance(o, ToDTE))
    ctx.outputs.clear()
    return data.decode("latin-1")


def test_the_table_is_well_formed() -> None:
    """Commands only where commands are read, DTE data only where they are not, every
    outcome a state, every row's handler callable."""
    for (state, event), rule in TABLE.items():
        assert isinstance(rule, Rule) and callable(rule.handler)
        assert rule.next in rule.outcomes and all(isinstance(s, State) for s in rule.outcomes)
        if isinstance(event, Cmd):
            assert state in COMMAND_STATES, (state, event)
        if event is DTE_DATA:
            assert state not in COMMAND_STATES, state
    for state in COMMAND_STATES:  # each command state knows how to hang up and reset
        assert TABLE[(state, Cmd.RESET)].next is State.IDLE
        assert (state, Cmd.HANGUP) in TABLE and (state, Cmd.FK) in TABLE


@pytest.mark.parametrize(
    ("state", "cmd"),
    [key for key in TABLE if isinstance(key[1], Cmd)],
    ids=lambda v: v.name,
)
def test_every_command_row_leads_to_its_declared_state(state: State, cmd: Cmd) -> None:
    """Each (state, command) row, run with a representative command, ends in the row's next state."""
    role = Role.RX if cmd is Cmd.FDR else Role.TX
    ctx = context(state, role)
    dispatch(ctx, cmd, COMMANDS[cmd])
    assert ctx.state is TABLE[(state, cmd)].next
    assert "ERROR" not in dte_text(ctx)


@pytest.mark.parametrize(
    ("state", "cmd", "role", "expected", "text"),
    [
        (State.IDLE, Cmd.DIAL, Role.TX, State.IDLE, "ERROR"),  # ATD without digits
        (State.CALL, Cmd.FDR, Role.TX, State.CALL, "ERROR"),  # +FDR on the sending side
        (State.TX_WAIT_FET, Cmd.FET, Role.TX, State.TX_WAIT_FET, "ERROR"),  # +FET=7
    ],
)
def test_alternative_outcomes_are_declared(state: State, cmd: Cmd, role: Role, expected: State, text: str) -> None:
    """Commands that fail take a declared alternative and say ERROR."""
    ctx = context(state, role)
    command = {
        Cmd.DIAL: _at.DialCmd("W,"),
        Cmd.FET: _at.Extended("FET", _at.Op.SET, "7"),
    }.get(cmd, COMMANDS[cmd])
    dispatch(ctx, cmd, command)
    assert ctx.state is expected and expected in TABLE[(state, cmd)].outcomes
    assert text in dte_text(ctx)


@pytest.mark.parametrize("state", list(State), ids=lambda s: s.name)
def test_commands_the_table_does_not_list_answer_error(state: State) -> None:
    """In every state a command without a row answers ERROR and moves nothing."""
    for cmd in Cmd:
        if (state, cmd) in TABLE:
            continue
        ctx = context(state)
        dispatch(ctx, cmd, COMMANDS[cmd])
        assert ctx.state is state, cmd
        assert dte_text(ctx) == "\r\nERROR\r\n", cmd


@pytest.mark.parametrize("state", sorted(COMMAND_STATES, key=lambda s: s.value), ids=lambda s: s.name)
def test_unknown_commands_answer_error_in_every_command_state(state: State) -> None:
    """``AT+FXYZ``, ``ATJ`` and a malformed S-register answer ERROR wherever commands are read."""
    for line in ("+FXYZ", "J", "+FCLASS=9", "+FDT=1"):
        ctx = context(state)
        execute(ctx, _at.parse_line(line), lambda cmd, command, c=ctx: dispatch(c, cmd, command))
        assert ctx.state is state, line
        assert dte_text(ctx) == "\r\nERROR\r\n", line
    with pytest.raises(_at.CommandError):
        _at.parse_line("S7")


def test_a_pending_hangup_is_reported_by_the_next_fax_command() -> None:
    """The call broke off between commands: +FDT reports +FHS:<code> and OK, in any state."""
    ctx = context(State.CALL)
    dispatch(ctx, RemoteHangup, RemoteHangup())
    assert ctx.state is State.IDLE and ctx.pending_hangup is HangupCode.TX_B_DCN
    dispatch(ctx, Cmd.FDT, COMMANDS[Cmd.FDT])
    assert dte_text(ctx) == "\r\n+FHS:22\r\n\r\nOK\r\n" and ctx.pending_hangup is None
    dispatch(ctx, Cmd.FDT, COMMANDS[Cmd.FDT])  # reported once
    assert dte_text(ctx) == "\r\nERROR\r\n"


def test_an_undeclared_outcome_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A handler that picks a state its row does not declare is a bug the table catches."""
    monkeypatch.setitem(TABLE, (State.IDLE, Cmd.HANGUP), Rule(lambda _ctx, _arg: State.CALL, State.IDLE))
    ctx = context(State.IDLE)
    with pytest.raises(UndeclaredTransition, match="IDLE"):
        dispatch(ctx, Cmd.HANGUP, COMMANDS[Cmd.HANGUP])
    assert ctx.state is State.IDLE


def test_steps_without_t30_timing_run_after_their_event() -> None:
    """Without T.30 timing +FDT's phase B is over at once: CALL -> (START_PAGE) -> TX_DATA."""
    ctx = context(State.CALL)
    ctx.config = ModemConfig()
    dispatch(ctx, Cmd.FDT, COMMANDS[Cmd.FDT])
    assert ctx.state is State.TX_DATA
    assert dte_text(ctx).endswith("CONNECT\r\n")
    assert TABLE[(State.CALL, Step.START_PAGE)].next is State.TX_DATA


def test_hangup_codes_are_named_and_reported_in_both_numberings() -> None:
    """T.32 / SP-2388 codes: Class 2 decimal, Class 2.0 hex digits, 100 and up as A0..."""
    assert {c.value for c in HangupCode} == {0, 2, 20, 21, 22, 40, 50, 51, 52, 54, 56, 70, 71, 73, 90, 100}
    assert hangup_report(HangupCode.TX_D_NO_EOP_RESPONSE, "2") == "+FHNG:54"
    assert hangup_report(HangupCode.TX_D_NO_EOP_RESPONSE, "2.0") == "+FHS:54"
    assert hangup_report(HangupCode.RX_D_UNSPECIFIED, "2.0") == "+FHS:A0"
    assert all(isinstance(code, HangupCode) for code in NO_RESPONSE_CODE.values())


def _modem_modules() -> list[Path]:
    return sorted(HWSIM.glob("*.py"))


def _called_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def test_hangup_codes_are_never_bare_numbers() -> None:
    """No hang-up call and no pending hangup in the modem takes a bare number: HangupCode members only."""
    for path in _modem_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and "hang" in _called_name(node):
                numbers = [a for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, int)]
                assert not numbers, (path.name, node.lineno)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and target.attr.endswith("pending_hangup"):
                        assert node.value.value is None, (path.name, node.lineno)


def test_no_private_attribute_is_reached_from_another_object() -> None:
    """Only ``self`` touches underscore attributes: the modules share ModemContext's public fields."""
    for path in sorted(HWSIM.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                owner = node.value
                if isinstance(owner, ast.Name) and owner.id in ("self", "cls", "argparse"):
                    continue
                raise AssertionError(f"{path.name}:{node.lineno}: {ast.unparse(node)}")


def _imports(path: Path, package: str, modules: set[str]) -> set[str]:
    """hwsim modules ``path`` imports, at any depth (functions, TYPE_CHECKING blocks included);
    ``from pkg import mod`` counts as importing ``pkg.mod``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            module = (f"{base}.{node.module}" if node.module else base) if node.level else (node.module or "")
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                found.add(sub if sub in modules else module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found & modules


def test_hwsim_has_no_import_circle() -> None:
    """The hwsim modules import each other as a tree-like graph: no module reaches itself."""
    modules: dict[str, Path] = {}
    for path in HWSIM.rglob("*.py"):
        parts = path.relative_to(HWSIM.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        graph[name] = _imports(path, package, set(modules)) - {name}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and (seen.add(nxt) or reaches(nxt, goal, seen))):
                return True
        return False

    circles = sorted(name for name in graph if reaches(name, name, set()))
    assert circles == [], circles


def test_no_hwsim_module_is_over_500_lines() -> None:
    for path in HWSIM.rglob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 500, path.name
