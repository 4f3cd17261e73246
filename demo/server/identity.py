"""Who is sending to the class room: an identity the server issues, never one a client makes up.

A pupil's page asks for an identity once (``POST /convscope/room/hello``) and gets it as a signed cookie: a random
id, the time it was issued, and an HMAC over both with the room's secret (demo/server/room.py: ``Room.secret``, kept
in the room's database so every copy of the app behind the balancer signs and checks alike). The room limits sends
per identity (one every few seconds) and the teacher can block one. An identity cannot be forged or altered
without the secret; a script can only ask for new ones, and issuing is limited per client address
(:class:`IssueLimiter`), sized so that a whole class behind one school router can join at once. Nothing about a
pupil is in the cookie or kept with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

COOKIE = "convscope_pupil"
COOKIE_PATH = "/convscope/room"
LIFETIME_S = 12 * 3600  # a school day; a page open longer asks again
FIRST_SEND_AFTER_S = 2.0  # an identity sends at the earliest this long after it was issued (drawing takes longer)


@dataclass(frozen=True)
class Identity:
    id: str
    issued: float  # unix time

    def age(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.issued


def _signature(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def issue(secret: bytes, now: float | None = None) -> tuple[Identity, str]:
    """A new identity and its cookie value."""
    identity = Identity(secrets.token_urlsafe(12), int(time.time() if now is None else now))
    payload = f"{identity.id}.{int(identity.issued)}"
    return identity, f"{payload}.{_signature(secret, payload)}"


def verify(secret: bytes, value: str | None, now: float | None = None) -> Identity | None:
    """The identity in a cookie value, or None when it is missing, malformed, forged or expired."""
    if not value or len(value) > 128:
        return None
    parts = value.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_signature(secret, payload), parts[2]):
        return None
    identity = Identity(parts[0], float(parts[1]))
    if not 0 <= identity.age(now) <= LIFETIME_S:
        return None
    return identity


class IssueLimiter:
    """New identities per client address: a burst of ``burst`` at once (a whole class behind one router), then one
    every ``refill_s`` seconds. Addresses are kept in this process's memory only, for as long as they matter."""

    def __init__(self, burst: int = 80, refill_s: float = 3.0) -> None:
        self.burst = burst
        self.refill_s = refill_s
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, address: str, now: float | None = None) -> float:
        """0 when ``address`` may have a new identity (counted); else the seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._buckets) > 10_000:  # forget addresses whose bucket is full again
                full_after = self.burst * self.refill_s
                self._buckets = {a: b for a, b in self._buckets.items() if now - b[1] < full_after}
            tokens, then = self._buckets.get(address, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) / self.refill_s)
            if tokens < 1.0:
                self._buckets[address] = (tokens, now)
                return (1.0 - tokens) * self.refill_s
            self._buckets[address] = (tokens - 1.0, now)
            return 0.0
