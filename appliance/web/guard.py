"""The web service's gate keeper (thin adapter over :mod:`browser` and
:mod:`throttle`): cross-site refusals, throttled HTTP Basic logins with an
audit line per failure, and the web console's anti-CSRF token.

Audit lines (warnings with an ``audit`` field: ``login_failed``,
``login_refused``, ``cross_site``) name the user (control characters
escaped) and the source address, never the password.  Lock-out refusals are
summarised at most once a second, so an attack cannot flood the log.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from twisted.internet import task
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.web.http import Request as HttpRequest

from appliance.config.web import WebConfig
from appliance.web import browser
from appliance.web.auth import AuthUnavailable, Identity, basic_credentials
from appliance.web.model import WebError
from appliance.web.throttle import LoginThrottle, ThrottlePolicy, printable

__all__ = ["Guard", "TooManyAttempts", "client_address", "own_origin"]


class TooManyAttempts(WebError):
    """429: the user name or the source address failed too often; retry later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(429, f"too many failed logins; try again in {retry_after} s")
        self.headers = {"Retry-After": str(retry_after)}


def client_address(request: HttpRequest) -> str:
    """The peer's IP address as text ("" when unknown)."""
    return str(getattr(request.getClientAddress(), "host", "") or "")


def own_origin(request: HttpRequest) -> str:
    """``scheme://host[:port]`` the request was addressed to (its ``Host`` header)."""
    scheme = "https" if request.isSecure() else "http"
    host = (request.getHeader(b"host") or b"").decode("latin-1").strip()
    if not host:
        address = request.getHost()
        host = f"{getattr(address, 'host', 'localhost')}:{getattr(address, 'port', 80)}"
    return f"{scheme}://{host}"


class Guard:
    """One per site: its throttle and its CSRF secret live as long as the service."""

    log = Logger()
    REFUSAL_LOG_INTERVAL = 1.0

    def __init__(self, config: WebConfig, clock: IReactorTime, csrf_secret: bytes) -> None:
        self.config = config
        self.clock = clock
        self._secret = csrf_secret
        self._refused = 0  # refusals not yet logged
        self._refusal_logged_at = float("-inf")
        self.throttle = LoginThrottle(
            ThrottlePolicy(
                base_delay=config.login_delay,
                max_delay=config.login_max_delay,
                user_refuse_after=config.login_user_limit,
                source_refuse_after=config.login_source_limit,
                forget_after=max(3600.0, 4 * config.login_max_delay),
            )
        )

    # ------------------------------------------------------------ origins

    def check_origin(self, request: HttpRequest, method: str) -> None:
        """403 for a state-changing request a page of another origin made."""
        if method not in browser.STATE_CHANGING:
            return
        origin = request.getHeader(b"origin")
        referer = request.getHeader(b"referer")
        foreign = browser.foreign_origin(
            origin.decode("latin-1") if origin is not None else None,
            referer.decode("latin-1") if referer is not None else None,
            (own_origin(request), *self.config.trusted_origins),
        )
        if foreign is not None:
            self.log.warn(
                "cross-site {method} refused: origin {origin} from {source}",
                method=method,
                origin=printable(foreign),
                source=client_address(request),
                audit="cross_site",
            )
            raise WebError(403, f"cross-site request refused: {printable(foreign)} is not this service's origin")

    # -------------------------------------------------------------- login

    async def login(self, request: HttpRequest, check: Callable[[str, str], Deferred[Identity | None]]) -> Identity:
        """The identity of the request's HTTP Basic credentials, throttled.

        401 without or with wrong credentials, 429 (``Retry-After``) while
        locked out, 503 when no RADIUS server answered."""
        credentials = basic_credentials(request.getHeader(b"authorization"))
        if credentials is None:
            raise WebError(401, "authentication required (HTTP Basic)")
        user, password = credentials
        source = client_address(request)
        while True:
            verdict = self.throttle.verdict(user, source, self.clock.seconds())
            if verdict.go:
                break
            if verdict.refuse:
                retry = max(1, math.ceil(verdict.wait))
                self._log_refusal(user, source, retry)
                raise TooManyAttempts(retry)
            await task.deferLater(self.clock, verdict.wait, lambda: None)
        try:
            identity = await check(user, password)
        except AuthUnavailable as exc:
            self.log.warn("{problem}", problem=str(exc))
            raise WebError(503, "cannot check credentials now (no RADIUS server answered)") from None
        if identity is None:
            now = self.clock.seconds()
            self.throttle.failed(user, source, now)
            self.log.warn(
                "web login failed for user {user} from {source} ({failures} in a row)",
                user=printable(user),
                source=source,
                audit="login_failed",
                failures=self.throttle.failures(user, now=now),
            )
            raise WebError(401, "unknown user or wrong password")
        self.throttle.succeeded(user)
        return identity

    def _log_refusal(self, user: str, source: str, retry: int) -> None:
        self._refused += 1
        now = self.clock.seconds()
        if now - self._refusal_logged_at < self.REFUSAL_LOG_INTERVAL:
            return
        self.log.warn(
            "{refused} web login(s) refused (locked out), the last for user {user} from {source};"
            " retry after {retry_after} s",
            refused=self._refused,
            user=printable(user),
            source=source,
            retry_after=retry,
            audit="login_refused",
        )
        self._refused = 0
        self._refusal_logged_at = now

    # --------------------------------------------------------------- CSRF

    def csrf_token(self, request: HttpRequest) -> str:
        """The console's anti-CSRF token for the request's credentials ("" without any)."""
        credentials = basic_credentials(request.getHeader(b"authorization"))
        return browser.csrf_token(self._secret, *credentials) if credentials else ""
