"""Login rate limiting and CSRF tokens."""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable

CSRF_FIELD = "csrf_token"


class LoginLimiter:
    """At most `max_failures` failed logins per key (user name and client address) in a sliding window."""

    def __init__(self, max_failures: int = 5, window_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures.get(key, deque())
        cutoff = self.clock() - self.window_s
        while failures and failures[0] < cutoff:
            failures.popleft()
        return failures

    def blocked(self, key: str) -> bool:
        return len(self._recent(key)) >= self.max_failures

    def failed(self, key: str) -> None:
        if len(self._failures) >= self.max_keys:  # bounded memory under a flood of distinct names
            self._failures.pop(next(iter(self._failures)))
        failures = self._recent(key)
        failures.append(self.clock())
        self._failures[key] = failures

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)


def csrf_token(session) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def csrf_valid(session, submitted: str | None) -> bool:
    expected = session.get(CSRF_FIELD)
    return bool(expected and submitted and hmac.compare_digest(expected, submitted))
