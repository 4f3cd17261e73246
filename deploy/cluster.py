"""Several copies of ConvScope behind HAProxy, on one machine or pointed at others.

    python deploy/cluster.py [--copies 2] [--port 8080] [--host 127.0.0.1] [--workers N] [-- DEMO FLAGS...]
    python deploy/cluster.py --servers 10.0.0.5:7860,10.0.0.6:7860 [--port 8080] [--host 0.0.0.0]

The first form starts ``--copies`` copies of ``python -m demo`` on the ports after ``--port`` (8081, 8082, ...),
each with an equal share of the machine's cores for its live workers, then HAProxy on ``--port`` with
deploy/haproxy.cfg.in: each browser stays on one copy (a cookie), new ones go to the copy with the fewest
connections, a copy that stops answering its health check gets no new pupils. The second form starts only HAProxy,
for copies already running on other machines (``python -m demo --host 0.0.0.0`` on each). Flags after ``--`` go to
every copy (``--classroom``, ``--data-dir DIR``, ...).

Everything started is stopped together on Ctrl-C or SIGTERM, and if any part exits on its own.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def haproxy_config(bind: str, servers: list[str]) -> str:
    lines = "\n".join(f"    server copy{i} {address} cookie copy{i}" for i, address in enumerate(servers, start=1))
    return (HERE / "haproxy.cfg.in").read_text().format(bind=bind, servers=lines)


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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
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
    p.add_argument("--haproxy", default=shutil.which("haproxy") or "haproxy",
                   help="the haproxy program (default: the one on PATH)")
    args = p.parse_args(argv)
    if shutil.which(args.haproxy) is None:
        print("error: haproxy is not installed (Debian: apt-get install haproxy; .ci/setup installs it)",
              file=sys.stderr)
        return 2

    processes: list[subprocess.Popen] = []
    temp = Path(tempfile.mkdtemp(prefix="convscope-cluster-"))

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        if args.servers:
            servers = [s.strip() for s in args.servers.split(",") if s.strip()]
        else:
            workers = args.workers if args.workers is not None else max(1, cores() // args.copies)
            servers = []
            for i in range(1, args.copies + 1):
                port = args.port + i
                servers.append(f"127.0.0.1:{port}")
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "demo", "--port", str(port), "--workers", str(workers), *demo_flags],
                    cwd=ROOT))
            deadline = time.monotonic() + 300
            for address in servers:
                while not answers(f"http://{address}/convscope/health"):
                    if time.monotonic() > deadline or any(proc.poll() is not None for proc in processes):
                        print(f"error: the copy at {address} did not start", file=sys.stderr)
                        return 2
                    time.sleep(0.5)
        config = temp / "haproxy.cfg"
        config.write_text(haproxy_config(f"{args.host}:{args.port}", servers))
        balancer = subprocess.Popen([args.haproxy, "-f", str(config), "-db"])
        processes.append(balancer)
        print(f"ConvScope: http://{args.host}:{args.port}  ({len(servers)} copies: {', '.join(servers)})",
              flush=True)
        while all(proc.poll() is None for proc in processes):
            time.sleep(0.5)
        print("a part of the cluster stopped; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for proc in processes:
            if proc.poll() is None:
                proc.terminate()
        for proc in processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
