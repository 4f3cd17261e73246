"""python -m demo: start the ConvScope app.

    python -m demo [--host 127.0.0.1] [--port 7860] [--weights weights/cnn.safetensors] [--data-dir DIR] [--share]
                   [--classroom [--teacher-token-file PATH]] [--room-db PATH] [--room-idle-hours 12] [--no-rooms]
                   [--public-url URL] [--balancer-url URL] [--workers N] [--mlp-weights weights/mlp.safetensors]

A teacher starts a class from the page ("Start a class"): a room with a short code, its pupils' link and QR code,
and the teacher's link; --no-rooms turns that off (a public demo that wants none).

With --classroom the app prints two addresses: "Students:" for the pupils (their phones draw and send drawings to
the class room) and "Teacher:" for the projector (the network layer by layer, and the class's drawings). The
teacher's secret token is in the teacher's address after "#" (browsers never send that part to a server or a
proxy). It is read from a file (--teacher-token-file), else from $CONVSCOPE_TEACHER_TOKEN, else made new at each
start; it is never a command-line argument (every user of the machine can read those), and the teacher's address
is printed only to a terminal (otherwise it is written to a file in this user's temporary folder, readable by this
user only on Linux and macOS, and its path printed).
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import errno
import getpass
import os
import re
import secrets
import signal
import socket
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

from .core.paths import DEFAULT_WEIGHTS


def internet_reachable(host: str = "api.gradio.app", port: int = 443, timeout: float = 3.0) -> bool:
    """Whether a share link can possibly be made; a dead network would otherwise block launch() for ~30 s."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Caps glibc's malloc arenas. Gradio runs handlers on many worker threads and glibc gives busy threads arenas
    of their own (up to 8 per core), each keeping freed memory: the server's memory then creeps up under a
    classroom's load (bench/load.py). Elsewhere (not glibc) this does nothing."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # -8 is M_ARENA_MAX
    except (OSError, AttributeError):
        pass


TOKEN_ENV = "CONVSCOPE_TEACHER_TOKEN"
# A file made with mode 0o600 is readable by its owner only on POSIX (Linux, macOS). Windows keeps only the write bit
# of a mode: there a file is as private as the folder it is in (a user's own temporary folder is, by default).
PRIVATE_FILES = os.name == "posix"
TOKEN_PATTERN = r"[A-Za-z0-9_-]{8,128}"


def teacher_token(token_file: str | None) -> str:
    """The teacher's token: from ``token_file`` (made, with mode 0600, with a new token when missing),
    else from $CONVSCOPE_TEACHER_TOKEN, else a new random one. Raises ValueError for a malformed token."""
    if token_file:
        path = Path(token_file)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(12) + "\n")
        token = path.read_text().strip()
        where = str(path)
    else:
        token = os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(12)
        where = f"${TOKEN_ENV}"
    if not re.fullmatch(TOKEN_PATTERN, token):
        raise ValueError(f"the teacher token in {where} must be 8-128 letters, digits, '-' or '_'")
    return token


def user_name() -> str:
    """Who runs the app, for messages; getpass reads the environment, then the password database (POSIX only)."""
    try:
        return getpass.getuser()
    except (ImportError, KeyError, OSError):  # no such variable, and no pwd module (Windows) or no entry
        return "who runs ConvScope"


def announce(students: str, teacher: str) -> None:
    """Prints the pupils' address, and the teacher's to a terminal only: where the output is kept (a service's
    log), the teacher's address goes to a file in this user's temporary folder (mode 0600: on Linux and macOS
    readable by this user only), and its path is printed instead."""
    print(f"Students: {students}", flush=True)
    if sys.stdout.isatty():
        print(f"Teacher: {teacher}", flush=True)
        return
    fd, path = tempfile.mkstemp(prefix="convscope-teacher-", suffix=".txt")  # mode 0600
    with os.fdopen(fd, "w") as file:
        file.write(teacher + "\n")
    atexit.register(Path(path).unlink, missing_ok=True)  # the address is good only while this server runs
    who = user_name()
    private = f"readable only by the user {who}" if PRIVATE_FILES else f"in the temporary folder of the user {who}"
    print(f"Teacher: the address is in {path} ({private}; deleted when the server stops)", flush=True)


def port_free(host: str, port: int) -> bool:
    """Whether the server can listen on ``port``: nothing else listens there. Connections of a server that just
    stopped (TIME_WAIT, for a minute after a crash) do not count: the server itself binds with SO_REUSEADDR, as
    uvicorn does, and so does this check (on POSIX; on Windows that option would let two servers share a port)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        if os.name == "posix":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as error:
            return error.errno not in (errno.EADDRINUSE, errno.EACCES)
    return True


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, str | None]:
    """The command line's flags, checked, and the teacher's token (classroom mode)."""
    private = ", readable by you only" if PRIVATE_FILES else " (keep it in a folder only you can open)"
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on; 0.0.0.0 serves a classroom LAN "
                             "(default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help=f"weights file (default: {DEFAULT_WEIGHTS})")
    parser.add_argument("--data-dir", help="MNIST folder; adds real MNIST test digits as clickable examples "
                                           "(default: none)")
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link (default: off)")
    parser.add_argument("--classroom", action="store_true",
                        help="projector mode: large type, high contrast, the network revealed layer by layer, "
                             "freeze and dark/light buttons (default: off)")
    parser.add_argument("--room-db", metavar="PATH",
                        help="the class rooms' SQLite file (each room's drawings in the folder PATH-rooms beside "
                             "it), kept across restarts and shared by every copy of the app on this machine "
                             "(default: a temporary one removed at exit)")
    parser.add_argument("--room-idle-hours", type=float, default=12.0, metavar="HOURS",
                        help="a class room nobody has used for this long closes by itself, and its drawings are "
                             "deleted (default: 12)")
    parser.add_argument("--no-rooms", action="store_true",
                        help="no class rooms can be started from the page (default: teachers can start them)")
    parser.add_argument("--teacher-token-file", metavar="PATH",
                        help="with --classroom: a file holding the secret in the teacher's address (8-128 letters, "
                             f"digits, '-' or '_'), made with a new one{private}, when missing (default: "
                             f"${TOKEN_ENV}, else a new random one at each start)")
    parser.add_argument("--teacher-token", help=argparse.SUPPRESS)  # refused: see below
    parser.add_argument("--public-url", metavar="URL",
                        help="the address pupils open when it is not this server's own, e.g. a load balancer's "
                             "(default: this server's address, or the share link)")
    parser.add_argument("--balancer-url", metavar="URL",
                        help="several machines behind one load balancer (deploy/cluster.py --servers), each with its "
                             "own --room-db: the balancer's address as this machine reaches it; a class started here "
                             "gets a code the balancer routes to this machine (default: none, one machine)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes that compute the live pad's updates, each with its own copy of the model; "
                             "0 computes them in this process (default: one per CPU core)")
    parser.add_argument("--mlp-weights", help="the plain fully connected net for the CNN-vs-MLP lesson "
                                              "(default: weights/mlp.safetensors)")
    args = parser.parse_args(argv)
    if args.teacher_token is not None:
        parser.error(f"--teacher-token is not accepted: a token on the command line is visible to every user of "
                     f"this machine (ps) and stays in the shell's history. Set ${TOKEN_ENV} or use "
                     "--teacher-token-file PATH, with a new token.")
    if args.teacher_token_file and not args.classroom:
        parser.error("--teacher-token-file belongs to --classroom's room: add --classroom")
    if args.no_rooms and args.room_db:
        parser.error("--room-db holds class rooms, which --no-rooms turns off: drop one of them")
    if not 0 < args.room_idle_hours <= 24 * 365:
        parser.error("--room-idle-hours must be more than 0 (and at most a year)")
    for flag, url in (("--public-url", args.public_url), ("--balancer-url", args.balancer_url)):
        if url is not None and not re.fullmatch(r"https?://[^\s?#]+", url):
            parser.error(f"{flag} must be an address such as http://192.168.1.5:8080/")
    if args.no_rooms and args.balancer_url:
        parser.error("--balancer-url places class rooms, which --no-rooms turns off: drop one of them")
    try:
        token = teacher_token(args.teacher_token_file) if args.classroom else None
    except (OSError, ValueError) as error:
        parser.error(str(error))
    return args, token


def open_rooms(args: argparse.Namespace, token: str | None) -> tuple[Any, Any, str | None]:
    """The class rooms' register (None with --no-rooms), --classroom's room, and that room's code."""
    from .server.room import Room
    from .server.rooms import Rooms

    if args.no_rooms:
        return (Room(None, token) if args.classroom else None), None, None
    rooms = Rooms(args.room_db, idle_s=args.room_idle_hours * 3600)
    rooms.balancer_url = args.balancer_url or ""
    rooms.data_dir = args.data_dir or ""
    if not args.classroom:
        return None, rooms, None
    code, room = rooms.open_main(token)
    return room, rooms, code


def main(argv: list[str] | None = None) -> int:
    args, token = parse_args(argv)
    limit_malloc_arenas()  # before any worker thread exists
    if not port_free(args.host, args.port):  # before the heavy imports: a second start is told at once
        print(f"error: port {args.port} on {args.host} is already in use (is ConvScope already running?). "
              f"Stop the other server or pick another port with --port.", file=sys.stderr)
        return 2

    from .core.checkpoint import WeightsError  # heavy imports after argument parsing, so --help is instant
    from .core.classifier import load_classifier
    from .page.extras import load_insights, load_lesson_extras, load_mnist_samples
    from .page.ui import build_app, configure_gradio, launch
    from .server.room_addresses import room_urls
    from .server.work import WorkPool, default_workers

    try:
        clf = load_classifier(args.weights)
    except WeightsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    share = args.share
    if share and not internet_reachable():
        print("warning: no internet connection, so no public share link can be made; serving locally only.",
              file=sys.stderr)
        share = False
    # SIGTERM (a service manager, a test) ends the app as Ctrl-C does: the workers stop, a temporary room goes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        room, rooms, main_code = open_rooms(args, token)
    except (OSError, sqlite3.Error) as error:
        print(f"error: the class rooms' database {args.room_db} cannot be used: {error}", file=sys.stderr)
        return 2
    try:
        import torch

        torch.set_num_threads(1)  # one small forward pass per request: threads would only fight between users
        configure_gradio()
        mlp, robustness = load_lesson_extras(args.mlp_weights)
        workers = WorkPool(args.weights, default_workers() if args.workers is None else max(0, args.workers), clf)
        insights = load_insights(clf, args.data_dir)  # the nearest digits' index builds in the background
        demo = build_app(clf, load_mnist_samples(args.data_dir), mlp=mlp, robustness=robustness, workers=workers,
                         classroom=args.classroom, room=room, insights=insights,
                         rooms_on=rooms is not None)  # queue settings: demo/page/ui.py

        def on_ready(served: Any) -> None:
            students, teacher = room_urls(args.host, served.server_port, args.public_url or served.share_url,
                                          room.token if room is not None else "")
            if rooms is not None:
                rooms.base_url = students.rstrip("/")
            if room is not None:
                room.join_url = students
                announce(students, teacher)

        launch(demo, workers, room, on_ready, rooms=rooms, main_code=main_code, server_name=args.host,
               server_port=args.port, share=share, show_error=False)
    finally:
        if room is not None:
            room.close()
        if rooms is not None:
            rooms.shut()
    return 0


if __name__ == "__main__":
    sys.exit(main())
