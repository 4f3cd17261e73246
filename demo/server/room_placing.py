"""Class rooms on several machines: a new room gets a code that the balancer routes to the machine that holds it.

Each machine keeps its own rooms in its own files (demo/server/rooms.py), and the balancer in front of them
(deploy/haproxy.cfg.in, backend ``rooms``) sends every request for a room to one machine by hashing the room's
code, so that all of a room's requests meet its files. A machine that starts a room must therefore hold a code
that hashes to itself. It cannot work the hash out on its own (HAProxy's ring depends on the servers' ids and
weights, and on which of them are configured), so it asks the balancer: it registers a fresh code with a new teacher's
token, then asks for that room's state *through the balancer* with that token. The balancer hands the question
to the machine the code hashes to, and only this machine answers 200 (another answers 404, or 403 on the
one-in-a-billion chance that it holds the same code; a machine that is down gets HAProxy's 503). Otherwise the
code is forgotten, never having been given out, and a new one is tried: with N machines, N tries on average, each
a request on the school's own network.

This runs only when the operator names the balancer (``--balancer-url``); on one machine, copies share one register
and any of them holds every room.
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request

from .room_routes import ROOMS_ROUTE, TOKEN_HEADER
from .rooms import Rooms

log = logging.getLogger("convscope")

ASK_TIMEOUT_S = 5.0  # one question to the balancer; it answers from the network in milliseconds
PLACE_WITHIN_S = 20.0  # all the tries together: a teacher waits no longer than this for "could not start"
MAX_TRIES = 64  # with two machines the chance of needing more is 2**-64


class NotPlaced(Exception):
    """No code could be found that the balancer routes to this machine (it did not answer, or not in time)."""


def lands_here(balancer_url: str, code: str, token: str, timeout: float = ASK_TIMEOUT_S) -> bool:
    """Whether the balancer at ``balancer_url`` routes the room ``code`` to this machine: the room's state, asked
    through it with the room's token, comes back (only this machine knows the token). Raises OSError when the
    balancer itself cannot be reached."""
    request = urllib.request.Request(f"{balancer_url.rstrip('/')}{ROOMS_ROUTE}/{code}/state?version=0",
                                     headers={TOKEN_HEADER: token})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # the operator's address, not a client's
            return answer.status == 200
    except urllib.error.HTTPError:  # answered, by another machine or by the balancer for one that is down
        return False


def place(rooms: Rooms, within_s: float = PLACE_WITHIN_S) -> tuple[str, str]:
    """A new room of ``rooms`` whose code the balancer (``rooms.balancer_url``) routes to this machine: its code and
    its teacher's token. Raises :class:`NotPlaced`."""
    deadline = time.monotonic() + within_s
    for _ in range(MAX_TRIES):
        code, token = rooms.create()
        try:
            here = lands_here(rooms.balancer_url, code, token,
                              timeout=max(0.1, min(ASK_TIMEOUT_S, deadline - time.monotonic())))
        except OSError as error:
            rooms.discard(code)
            log.warning("the balancer at %s did not answer (%s): no class can be started here",
                        rooms.balancer_url, error)
            raise NotPlaced from error
        if here:
            return code, token
        rooms.discard(code)
        if time.monotonic() > deadline:
            break
    log.warning("no room code routed to this machine through %s: is this machine among its servers?",
                rooms.balancer_url)
    raise NotPlaced
