"""The class room's two addresses, printed at start (demo/__main__.py, deploy/cluster.py): the one pupils open and
the teacher's, which carries the teacher's token (demo/server/room.py: ``Room.token``)."""

from __future__ import annotations

import socket


def network_address() -> str:
    """This machine's address on its network (the one its default route uses), for pupils' devices to reach; no
    packet is sent (a UDP socket's connect only picks the route). 127.0.0.1 when there is no network."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.254.254.254", 1))
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def room_urls(host: str, port: int, public_url: str | None, token: str) -> tuple[str, str]:
    """The pupils' and the teacher's (``/#teacher=TOKEN``) addresses: ``public_url`` when there is one (the share
    link of ``--share``, a load balancer's address), else this machine's network address when listening on every
    interface, else the address listened on."""
    if public_url:
        base = public_url.rstrip("/")
    else:
        reachable = network_address() if host in ("0.0.0.0", "::", "") else host
        base = f"http://{f'[{reachable}]' if ':' in reachable else reachable}:{port}"
    # The token travels in the fragment, which browsers never send: no proxy or server log sees it (room.js).
    return f"{base}/", f"{base}/#teacher={token}"
