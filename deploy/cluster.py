"""Several copies of ConvScope behind HAProxy, on one machine or pointed at others.

    python deploy/cluster.py [--copies 2] [--port 8080] [--host 127.0.0.1] [--workers N] [-- DEMO FLAGS...]
    python deploy/cluster.py --servers 10.0.0.5:7860,10.0.0.6:7860 [--port 8080] [--host 0.0.0.0]

The first form starts ``--copies`` copies of ``python -m demo`` on the ports after ``--port`` (8081, 8082, ...),
each with an equal share of the machine's cores for its live workers, then HAProxy on ``--port`` with
deploy/haproxy.cfg.in: each browser stays on one copy (a cookie), new ones go to the copy with the fewest
connections, a copy that stops answering its health check gets no new pupils. The second form starts only HAProxy,
for copies already running on other machines (``python -m demo --host 0.0.0.0`` on each, with the class rooms'
flags below). Flags after ``--`` go to every copy (``--classroom``, ``--data-dir DIR``, ...).

The copies share the class rooms: one register of rooms (``--room-db``, default: one in a temporary folder,
removed at exit), so a class started through one copy is served by all, and they give the balancer's address to
pupils (``--public-url``). With ``--classroom`` they share its room too, with one teacher token
($CONVSCOPE_TEACHER_TOKEN, default: a new random one) passed to each copy in its environment, never on its command
line; the pupils' and the teacher's addresses are printed.

With ``--servers``, each machine keeps its own rooms (its own ``--room-db``; start each with ``--balancer-url`` and
``--public-url`` set to this balancer's address): the balancer sends each room's requests to one machine by hashing
the room's code, and a machine that is down keeps its codes, answered "not answering" by the balancer
(docs/deploying.md, "Class rooms on several machines"). ``--classroom``'s room's requests go to the first server,
the machine holding its file (start the others with ``--classroom``, the same $CONVSCOPE_TEACHER_TOKEN and
``--public-url``). ``--print-config`` prints that configuration for an HAProxy of your own.

HAProxy adds each client's address as ``X-Forwarded-For``; the copies trust that header only from the balancer's
address (uvicorn's ``FORWARDED_ALLOW_IPS``, default 127.0.0.1: set it on copies on other machines to the
balancer's address), so limits per client address see the pupils, not the balancer.

Everything started is stopped together on Ctrl-C or SIGTERM, and if any part exits on its own.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


# Copies on one machine share the rooms' files: a room's requests may go to any of them, so a copy that stops
# answering its health check hands its share of the codes to the others. Separate machines each hold their own
# rooms: a machine that is down keeps its codes (the balancer answers for them "the server that holds this class is
# not answering", without retries, within a second even for a machine switched off, whose address stays silent)
# rather than sending them to a machine that has no such room.
ROOMS_ON_ONE_MACHINE = """    option httpchk GET /convscope/health
    http-check expect status 200
    option redispatch
    default-server check inter 2s fall 2 rise 1 maxconn 256 weight 100"""
ROOMS_ON_MACHINES = """    retries 0
    timeout connect 1s
    default-server maxconn 256 weight 100"""


def ring_id(address: str) -> int:
    """A server's id in the rooms' hash ring, from its address alone. HAProxy places each server on the ring by its
    id, which it numbers in the order of the server lines unless given: with ids from the addresses, the order of
    --servers does not matter, and adding or removing a machine moves only that machine's share of the codes."""
    return zlib.crc32(address.encode()) % 1_000_000_000 + 1


def haproxy_config(bind: str, servers: list[str], machines: bool = False) -> str:
    """The configuration for ``servers``: copies on this machine sharing one register of rooms, or (``machines``)
    separate machines each holding their own rooms, --classroom's on the first."""
    ids = [ring_id(address) for address in servers]
    if len(set(ids)) < len(ids):
        raise ValueError(f"two of the servers {servers} are the same")
    lines = [f"    server copy{i} {address} cookie copy{i}" for i, address in enumerate(servers, start=1)]
    by_code = [f"    server copy{i} {address} id {ring_id(address)}" for i, address in enumerate(servers, start=1)]
    # With several machines only the first serves --classroom's room: no cookie there, or a pupil whose page came
    # from another machine would be sent to the first for everything.
    main_room = [f"    server copy1 {servers[0]}"] if machines else lines
    return (HERE / "haproxy.cfg.in").read_text().format(
        bind=bind, servers="\n".join(lines), room_servers="\n".join(main_room),
        main_room_cookie="" if machines else "    cookie CONVSCOPE insert indirect nocache httponly\n",
        code_servers="\n".join(by_code), rooms_machines=ROOMS_ON_MACHINES if machines else ROOMS_ON_ONE_MACHINE)


HAPROXY_AT_LEAST = (2, 6)  # the rooms' backend hashes a part of the path (balance hash <expression>)


def haproxy_version(program: str) -> tuple[int, int] | None:
    """The installed HAProxy's version (major, minor), or None when it does not say."""
    try:
        said = subprocess.run([program, "-v"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    found = re.search(r"version (\d+)\.(\d+)", said)
    return (int(found.group(1)), int(found.group(2))) if found else None


def class_room_flags(demo_flags: list[str], temp: Path, public_url: str) -> tuple[list[str], str | None]:
    """The flags that make every copy share the class rooms (one register: a room started through one copy is
    served by all), and --classroom's teacher's token (for the copies' environment: a command line is readable by
    every user of the machine; None without --classroom)."""
    def given(flag: str) -> str | None:
        for i, arg in enumerate(demo_flags):
            if arg == flag and i + 1 < len(demo_flags):
                return demo_flags[i + 1]
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
        return None

    token = None
    if "--classroom" in demo_flags:
        token_file = given("--teacher-token-file")
        token = (Path(token_file).read_text().strip() if token_file and Path(token_file).exists()
                 else os.environ.get("CONVSCOPE_TEACHER_TOKEN") or secrets.token_urlsafe(12))
    rooms_off = "--no-rooms" in demo_flags
    extra = [] if given("--room-db") or rooms_off else ["--room-db", str(temp / "room.db")]
    extra += [] if given("--public-url") else ["--public-url", public_url]
    return [*demo_flags, *extra], token


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """This script's flags, and the flags after ``--`` for every copy."""
    demo_flags = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--copies", type=int, default=2, help="copies of the app to start here (default: 2)")
    p.add_argument("--port", type=int, default=8080, help="the balancer's port; copies use the next ones "
                                                          "(default: 8080)")
    p.add_argument("--host", default="127.0.0.1", help="the balancer's address; 0.0.0.0 for a school network "
                                                       "(default: 127.0.0.1)")
    p.add_argument("--workers", type=int, help="live workers per copy (default: the cores shared out evenly)")
    p.add_argument("--servers", help="comma-separated host:port of copies already running elsewhere: start only "
                                     "the balancer (default: none)")
    p.add_argument("--print-config", action="store_true",
                   help="with --servers: print the balancer's configuration (for an HAProxy of your own) and exit "
                        "(default: off)")
    p.add_argument("--haproxy", default=shutil.which("haproxy") or "haproxy",
                   help="the haproxy program (default: the one on PATH)")
    return p.parse_args(argv), demo_flags


def start_copies(args: argparse.Namespace, demo_flags: list[str], processes: list[subprocess.Popen],
                 token: str | None) -> list[str]:
    """Starts the copies (appended to ``processes``; ``token`` in their environment) and waits until each answers
    its health check; their addresses, or an empty list when one did not start."""
    workers = args.workers if args.workers is not None else max(1, cores() // args.copies)
    env = {**os.environ, **({"CONVSCOPE_TEACHER_TOKEN": token} if token else {})}
    servers = []
    for i in range(1, args.copies + 1):
        port = args.port + i
        servers.append(f"127.0.0.1:{port}")
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "demo", "--port", str(port), "--workers", str(workers), *demo_flags], cwd=ROOT,
            env=env))
    deadline = time.monotonic() + 300
    for address in servers:
        while not answers(f"http://{address}/convscope/health"):
            if time.monotonic() > deadline or any(proc.poll() is not None for proc in processes):
                print(f"error: the copy at {address} did not start", file=sys.stderr)
                return []
            time.sleep(0.5)
    return servers


def stop_all(processes: list[subprocess.Popen]) -> None:
    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
    for proc in processes:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: list[str] | None = None) -> int:
    args, demo_flags = parse_args(sys.argv[1:] if argv is None else argv)
    if args.print_config:
        if not args.servers:
            print("error: --print-config needs --servers", file=sys.stderr)
            return 2
        print(haproxy_config(f"{args.host}:{args.port}", [s.strip() for s in args.servers.split(",") if s.strip()],
                             machines=True), end="")
        return 0
    if shutil.which(args.haproxy) is None:
        print("error: haproxy is not installed (Debian: apt-get install haproxy; .ci/setup installs it)",
              file=sys.stderr)
        return 2
    version = haproxy_version(args.haproxy)
    if version is not None and version < HAPROXY_AT_LEAST:
        print(f"error: HAProxy {version[0]}.{version[1]} is installed; the configuration needs 2.6 or newer "
              "(Debian 12, Ubuntu 24.04)", file=sys.stderr)
        return 2
    from demo.server.room_addresses import room_urls  # (importing the package loads torch: a few seconds, once)

    processes: list[subprocess.Popen] = []
    temp = Path(tempfile.mkdtemp(prefix="convscope-cluster-"))
    public = room_urls(args.host, args.port, None, "")[0]
    token = None
    if not args.servers:
        demo_flags, token = class_room_flags(demo_flags, temp, public)

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        if args.servers:
            servers = [s.strip() for s in args.servers.split(",") if s.strip()]
        elif not (servers := start_copies(args, demo_flags, processes, token)):
            return 2
        config = temp / "haproxy.cfg"
        config.write_text(haproxy_config(f"{args.host}:{args.port}", servers, machines=bool(args.servers)))
        processes.append(subprocess.Popen([args.haproxy, "-f", str(config), "-db"]))
        print(f"ConvScope: http://{args.host}:{args.port}  ({len(servers)} copies: {', '.join(servers)})",
              flush=True)
        if token is not None:
            from demo.__main__ import announce

            announce(*room_urls(args.host, args.port, None, token))
        while all(proc.poll() is None for proc in processes):
            time.sleep(0.5)
        print("a part of the cluster stopped; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all(processes)
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
