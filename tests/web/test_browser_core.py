"""Browser-safety rules and login throttling without a network: the pure
cores (browser, throttle) with a task.Clock, and the Guard adapter over
twisted.web's DummyRequest."""

from __future__ import annotations

import ast
import base64
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import task
from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from twisted.web.test.requesthelper import DummyRequest

from appliance.config import ConfigError
from appliance.config.web import WebConfig, parse_web
from appliance.web import browser
from appliance.web.auth import AuthUnavailable, Identity
from appliance.web.guard import Guard, TooManyAttempts
from appliance.web.model import WebError
from appliance.web.throttle import LoginThrottle, ThrottlePolicy, printable, source_key

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["appliance/web/browser.py", "appliance/web/throttle.py"])
def test_cores_are_pure(module: str) -> None:
    """The browser and throttle cores import no I/O, clock or randomness modules."""
    tree = ast.parse((ROOT / module).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"twisted", "socket", "time", "random", "os", "logging", "threading"}


# ------------------------------------------------------------------ content types


def test_body_types() -> None:
    """XML with or without charset passes; text/plain, form encodings and a body without a type are 415."""
    for ok in ("application/xml", "text/xml", "Application/XML; charset=UTF-8", "text/xml;charset=iso-8859-1"):
        browser.check_body_type(ok, True, browser.XML_TYPES, "FFWS")
    browser.check_body_type("", False, browser.XML_TYPES, "FFWS")  # no body, no type: a bare PUT
    for bad, has_body in (
        ("text/plain", True),
        ("application/x-www-form-urlencoded", True),
        ("multipart/form-data; boundary=x", True),
        ("", True),
        ("text/plain", False),
    ):
        with pytest.raises(WebError) as caught:
            browser.check_body_type(bad, has_body, browser.XML_TYPES, "FFWS")
        assert caught.value.status == 415 and "application/xml or text/xml" in caught.value.message


# ---------------------------------------------------------------------- origins


@pytest.mark.parametrize(
    "origin,referer,foreign",
    [
        (None, None, None),  # not a browser page: allowed
        ("http://127.0.0.1:8080", None, None),
        ("HTTP://127.0.0.1:8080", "https://evil.example/x", None),  # Origin wins over Referer
        ("https://evil.example", None, "https://evil.example"),
        ("http://127.0.0.1:8081", None, "http://127.0.0.1:8081"),  # another port is another origin
        ("null", None, "null"),
        (None, "http://127.0.0.1:8080/?sent=1", None),
        (None, "https://evil.example/page", "https://evil.example"),
        ("https://fax.example.com:443", None, None),  # a trusted origin, default port written out
    ],
)
def test_foreign_origin(origin: str | None, referer: str | None, foreign: str | None) -> None:
    """Origin (else Referer) must be the service's own or a trusted origin; none at all is allowed."""
    own = ["http://127.0.0.1:8080", "https://fax.example.com"]
    assert browser.foreign_origin(origin, referer, own) == foreign


def test_csrf_token() -> None:
    """The token depends on secret, user and password; a wrong or missing one is invalid."""
    token = browser.csrf_token(b"k" * 32, "admin", "pw")
    assert browser.csrf_valid(token, token) and browser.csrf_valid(token, f" {token}\n")
    assert not browser.csrf_valid(token, "") and not browser.csrf_valid(token, None)
    assert not browser.csrf_valid(token, browser.csrf_token(b"j" * 32, "admin", "pw"))
    assert not browser.csrf_valid(token, browser.csrf_token(b"k" * 32, "admin", "pw2"))
    assert "pw" not in token and len(token) == 64


def test_security_headers() -> None:
    """nosniff everywhere; HTML also gets CSP (own style sheet and script only), no framing and a referrer policy."""
    assert browser.security_headers("application/xml") == {"X-Content-Type-Options": "nosniff"}
    html = browser.security_headers("text/html; charset=utf-8")
    assert html["X-Frame-Options"] == "DENY" and html["Referrer-Policy"] == "same-origin"
    csp = html["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_config_keys() -> None:
    """The [web] keys of this part parse with their defaults, and bad values name the key."""
    web = parse_web("f.toml", {"trusted_origins": ["https://Fax.Example.com/"], "login_delay": 2})
    assert web.trusted_origins == ("https://fax.example.com",) and web.login_delay == 2.0
    assert web.accounts == "auto" and web.login_user_limit == 5 and web.login_source_limit == 20
    for bad in (
        {"trusted_origins": ["fax.example.com"]},
        {"accounts": "maybe"},
        {"login_delay": 10, "login_max_delay": 1},
        {"login_user_limit": 0},
    ):
        with pytest.raises(ConfigError) as caught:
            parse_web("f.toml", bad)
        assert str(caught.value).count("web.") >= 1


# --------------------------------------------------------------------- throttle


def test_delay_doubles_then_refuses() -> None:
    """Each failure doubles the wait before the next attempt; from the limit on, early attempts are refused."""
    clock = task.Clock()
    throttle = LoginThrottle(
        ThrottlePolicy(base_delay=1.0, max_delay=8.0, user_refuse_after=3, source_refuse_after=100)
    )
    assert throttle.verdict("admin", "192.0.2.1", clock.seconds()).go
    waits = []
    for _ in range(5):
        throttle.failed("admin", "192.0.2.1", clock.seconds())
        verdict = throttle.verdict("admin", "192.0.2.1", clock.seconds())
        waits.append((verdict.wait, verdict.refuse))
        clock.advance(verdict.wait)
        assert throttle.verdict("admin", "192.0.2.1", clock.seconds()).go
    assert waits == [(1.0, False), (2.0, False), (4.0, True), (8.0, True), (8.0, True)]  # capped at max_delay


def test_go_takes_the_slot() -> None:
    """Of concurrent attempts on a failing user, one goes and the next must wait a full delay again."""
    clock = task.Clock()
    throttle = LoginThrottle(ThrottlePolicy(base_delay=2.0))
    throttle.failed("admin", "192.0.2.1", 0.0)
    clock.advance(2.0)
    assert throttle.verdict("admin", "192.0.2.2", clock.seconds()).go
    assert throttle.verdict("admin", "192.0.2.3", clock.seconds()).wait == 2.0


def test_source_delay_counts_from_its_last_failure() -> None:
    """Other users behind a source with a failure wait out its delay once, then are not slowed down."""
    throttle = LoginThrottle(ThrottlePolicy(base_delay=2.0))
    throttle.failed("mallory", "192.0.2.1", 0.0)
    assert throttle.verdict("alice", "192.0.2.1", 1.0).wait == 1.0
    for when in (2.0, 2.1, 2.2):
        assert throttle.verdict("alice", "192.0.2.1", when).go
        throttle.succeeded("alice")


def test_success_resets_user_not_source() -> None:
    """A successful login clears the user's record; the source keeps its own."""
    throttle = LoginThrottle(ThrottlePolicy(base_delay=1.0))
    for _ in range(3):
        throttle.failed("admin", "192.0.2.1", 0.0)
    throttle.succeeded("admin")
    assert throttle.failures("admin", now=0.0) == 0
    assert throttle.failures(source="192.0.2.1", now=0.0) == 3
    assert throttle.verdict("bob", "192.0.2.9", 0.0).go


def test_per_source_limit_across_users() -> None:
    """Guessing many user names from one source is throttled by the source's record."""
    throttle = LoginThrottle(ThrottlePolicy(base_delay=1.0, source_refuse_after=4))
    for n in range(4):
        throttle.failed(f"user{n}", "2001:db8::1", 0.0)
    verdict = throttle.verdict("user99", "2001:db8::2", 0.5)  # same /64
    assert verdict.refuse and verdict.wait == pytest.approx(7.5)
    assert throttle.verdict("user99", "2001:db9::1", 0.5).go  # another network


def test_memory_bounded_and_forgotten() -> None:
    """At most max_keys user names and sources are tracked; stale keys are forgotten."""
    throttle = LoginThrottle(ThrottlePolicy(max_keys=50, forget_after=100.0))
    for n in range(1000):
        throttle.failed(f"user{n}" * 40, f"10.0.{n // 256}.{n % 256}", float(n) / 100)
    assert throttle.tracked() <= 100
    assert throttle.failures("user999" * 40, now=10.0) == 1  # the newest is kept
    assert throttle.failures("user999" * 40, now=200.0) == 0  # and forgotten after forget_after


def test_printable_and_source_key() -> None:
    """Control characters in user names are escaped for log lines; IPv6 sources count per /64."""
    assert printable("bob\n2026-01-01 admin logged in\x1b[2J") == "bob\\n2026-01-01 admin logged in\\x1b[2J"
    assert printable("a\\b\u2028") == "a\\\\b\\u2028" and printable("é") == "é"
    assert printable("x" * 500).endswith("…") and len(printable("x" * 500)) == 101
    assert source_key("2001:db8::1") == source_key("2001:db8::ffff") == "2001:db8::/64"
    assert source_key("::ffff:192.0.2.1") == "192.0.2.1" and source_key("192.0.2.1") == "192.0.2.1"


# ------------------------------------------------------------------ the adapter


class Checker:
    """Stands in for Authenticator.authenticate: one good password."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.down = False

    def __call__(self, user: str, password: str) -> Deferred[Identity | None]:
        self.calls.append(user)
        if self.down:
            from twisted.internet.defer import fail

            return fail(AuthUnavailable("no answer"))
        return succeed(Identity(user) if password == "right" else None)


def basic_request(user: str, password: str, peer: str = "192.0.2.7") -> DummyRequest:
    request = DummyRequest([b""])
    request.client = type("Address", (), {"host": peer, "port": 40000})()
    request.requestHeaders.setRawHeaders(
        b"authorization", [b"Basic " + base64.b64encode(f"{user}:{password}".encode())]
    )
    return request


def make_guard(clock: task.Clock, events: list[dict[str, Any]], **web: Any) -> Guard:
    guard = Guard(
        WebConfig(**{"login_delay": 1.0, "login_max_delay": 60.0, "login_user_limit": 3, **web}), clock, b"s" * 32
    )
    guard.log = Logger(namespace="test", observer=events.append)
    return guard


def test_guard_waits_refuses_and_audits() -> None:
    """Failures delay the next check (clock-driven), the limit gives 429 with Retry-After, each failure is
    logged with user (escaped) and source but never the password, and the right password resets."""
    clock, events, checker = task.Clock(), [], Checker()
    guard = make_guard(clock, events)
    evil = "admin\n2026 fake line"

    def attempt(password: str) -> Deferred[Any]:
        return Deferred.fromCoroutine(guard.login(basic_request(evil, password), checker))

    for expected_wait in (0.0, 1.0, 2.0):
        d = attempt("s3cret-guess")
        if expected_wait:
            assert not d.called  # waiting out the delay: nothing is checked yet
            clock.advance(expected_wait - 0.01)
            assert not d.called
            clock.advance(0.01)
        failure = []
        d.addErrback(failure.append)
        assert failure and failure[0].value.status == 401
    assert len(checker.calls) == 3
    d = attempt("right")  # locked out: refused without a check, right password or not
    refused = []
    d.addErrback(refused.append)
    assert isinstance(refused[0].value, TooManyAttempts) and refused[0].value.headers == {"Retry-After": "4"}
    assert len(checker.calls) == 3
    failures = [e for e in events if "failed" in e["log_format"]]
    assert len(failures) == 3 and all(e["source"] == "192.0.2.7" for e in failures)
    assert failures[0]["user"] == "admin\\n2026 fake line" and [e["failures"] for e in failures] == [1, 2, 3]
    assert not any("s3cret" in repr(e) or "right" in repr(e.get("user")) for e in events)
    clock.advance(4.0)
    ok = []
    attempt("right").addCallback(ok.append)
    assert ok == [Identity(evil)] and guard.throttle.failures(evil, now=clock.seconds()) == 0


def test_guard_unavailable_is_503_not_a_failure() -> None:
    """No RADIUS answer is 503 and does not count against the user."""
    clock, events, checker = task.Clock(), [], Checker()
    checker.down = True
    guard = make_guard(clock, events)
    caught = []
    Deferred.fromCoroutine(guard.login(basic_request("admin", "x"), checker)).addErrback(caught.append)
    assert caught[0].value.status == 503 and guard.throttle.failures("admin", now=0.0) == 0


def test_guard_origin_check() -> None:
    """A POST from a foreign page is 403 (and logged); GET and POSTs without Origin are not judged."""
    events: list[dict[str, Any]] = []
    guard = make_guard(task.Clock(), events)
    request = DummyRequest([b""])
    request.isSecure = lambda: False  # type: ignore[method-assign]
    request.requestHeaders.setRawHeaders(b"host", [b"127.0.0.1:8080"])
    guard.check_origin(request, "POST")
    request.requestHeaders.setRawHeaders(b"origin", [b"https://evil.example"])
    guard.check_origin(request, "GET")
    with pytest.raises(WebError) as caught:
        guard.check_origin(request, "DELETE")
    assert caught.value.status == 403 and "https://evil.example" in caught.value.message
    assert events and events[-1]["origin"] == "https://evil.example"
    request.requestHeaders.setRawHeaders(b"origin", [b"http://127.0.0.1:8080"])
    guard.check_origin(request, "POST")


def test_guard_refusals_are_summarised() -> None:
    """Lock-out refusals are logged at most once a second, with how many there were."""
    clock, events, checker = task.Clock(), [], Checker()
    guard = make_guard(clock, events, login_user_limit=1, login_delay=4.0)
    Deferred.fromCoroutine(guard.login(basic_request("admin", "bad"), checker)).addErrback(lambda f: None)
    for _ in range(5):
        Deferred.fromCoroutine(guard.login(basic_request("admin", "bad"), checker)).addErrback(lambda f: None)
        clock.advance(0.1)
    clock.advance(0.5)
    Deferred.fromCoroutine(guard.login(basic_request("admin", "bad"), checker)).addErrback(lambda f: None)
    refusals = [e for e in events if e.get("audit") == "login_refused"]
    assert [e["refused"] for e in refusals] == [1, 5] and len(checker.calls) == 1


def test_web_secret_kept_in_data_dir(tmp_path: Path) -> None:
    """The anti-CSRF key is made once in <data_dir>/web-secret (mode 0600) and read back after a restart."""
    from appliance.web import web_secret

    first = web_secret(str(tmp_path))
    assert len(first) == 32 and web_secret(str(tmp_path)) == first
    assert (tmp_path / "web-secret").stat().st_mode & 0o777 == 0o600
    (tmp_path / "web-secret").write_text("abc\n")
    with pytest.raises(ConfigError, match="too short"):
        web_secret(str(tmp_path))
