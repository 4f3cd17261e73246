"""ConvScope runs on Windows and macOS as well as Linux, without root: what each system lacks is guarded.

These tests run on Linux and stand in for the other systems by hiding what those lack (the forkserver, os.nice, the
POSIX probe of a process id, a private file mode); a scan of demo/ checks that every POSIX-only call sits behind a
guard."""

from __future__ import annotations

import ast
import json
import multiprocessing
import os
import stat
import sys
import threading
from pathlib import Path

import pytest

import demo.__main__ as cli
import demo.server.work as work
from demo.core.paths import WEIGHTS_DIR
from demo.page.pad import pad_examples
from demo.server.jobs import live_update

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = WEIGHTS_DIR / "cnn.safetensors"
WINDOWS_MARKERS = {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows"}
MACOS_MARKERS = {"os_name": "posix", "sys_platform": "darwin", "platform_system": "Darwin"}
LINUX_MARKERS = {"os_name": "posix", "sys_platform": "linux", "platform_system": "Linux"}


def where_job(clf) -> tuple[int, int, bool]:
    """A job that says which process ran it, that process's parent, and whether the worker has its model (sent to a
    worker by reference, so it lives at module level)."""
    return os.getpid(), os.getppid(), clf is not None


# ------------------------------------------------------------------------------------------------ start method

@pytest.mark.parametrize(("methods", "platform", "expected"), [
    (["fork", "spawn", "forkserver"], "linux", "forkserver"),  # Linux: shared imports, no half-copied threads
    (["spawn"], "win32", "spawn"),  # Windows has spawn only
    (["spawn", "fork", "forkserver"], "darwin", "spawn"),  # macOS: a fork after torch's imports can crash
    (["fork", "spawn"], "linux", "spawn"),  # a POSIX without forkserver: spawn, never a plain fork
])
def test_workers_start_with_a_forkserver_only_where_it_is_safe(monkeypatch, methods, platform, expected):
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: methods)
    monkeypatch.setattr(sys, "platform", platform)
    assert work.start_method() == expected


def test_without_a_forkserver_the_pool_spawns_its_workers_and_they_answer(monkeypatch):
    """Windows' case on this machine: no forkserver, so the pool spawns fresh Pythons (children of the server, not
    of a forkserver), which load the model and answer a pupil's drawing."""
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    asked: list[str] = []
    get_context = multiprocessing.get_context

    def spy(method: str | None = None):
        asked.append(method)
        return get_context(method)

    monkeypatch.setattr(multiprocessing, "get_context", spy)
    pool = work.WorkPool(WEIGHTS, workers=1)
    try:
        pool.warm_up()
        pid, parent, has_model = pool.run_sync(where_job)
        strokes = next(e for e in pad_examples()[0] if e["digit"] == 7)["strokes"]
        body = json.dumps({"w": 280, "h": 280, "pen": 20, "seq": 1, "strokes": strokes}).encode()
        answer = json.loads(pool.run_sync(live_update, body, False))
    finally:
        pool.close()
    assert asked == ["spawn"]
    assert pid != os.getpid() and parent == os.getpid() and has_model  # a forkserver's child has another parent
    assert 'data-label="7"' in answer["html"]["prediction"]


# ------------------------------------------------------------------------------------------------ a worker's start

def _start_worker_here(monkeypatch) -> list:
    """Runs a worker's start in this process with its process-wide effects (Ctrl-C ignored, one torch thread, the
    server watch) recorded instead of made; returns what was recorded."""
    import torch

    calls: list = []
    monkeypatch.setattr(work, "_classifier", None)
    monkeypatch.setattr(work, "_watch_server", lambda server: calls.append(("watch", server)))
    monkeypatch.setattr(work.signal, "signal", lambda *args: calls.append(("signal", *args)))
    monkeypatch.setattr(torch, "set_num_threads", lambda n: calls.append(("threads", n)))
    work._start_worker(str(WEIGHTS), os.getpid())
    assert work._classifier is not None  # the worker has its model
    return calls


def test_a_worker_starts_where_os_has_no_nice(monkeypatch):
    """Windows has no os.nice: the worker starts all the same, at the server's priority."""
    monkeypatch.delattr(os, "nice")
    calls = _start_worker_here(monkeypatch)
    assert ("threads", 1) in calls and ("watch", os.getpid()) in calls


def test_a_worker_lowers_its_priority_where_os_has_nice(monkeypatch):
    niced: list[int] = []
    monkeypatch.setattr(os, "nice", lambda n: niced.append(n) or n)
    _start_worker_here(monkeypatch)
    assert niced == [work.WORKER_NICENESS]


def test_on_windows_a_worker_waits_on_its_parent_and_never_probes_the_server_with_os_kill(monkeypatch):
    """On Windows os.kill(pid, 0) would end the server (TerminateProcess). There a worker waits on its parent's
    process handle (with spawn the server is its parent) and ends once the parent has ended."""
    ended = threading.Event()

    class Parent:
        pid = 4242

        def join(self, timeout: float | None = None) -> None:  # the parent has ended
            return None

    def never(*args: object) -> None:
        raise AssertionError("os.kill called on Windows")

    monkeypatch.setattr(work, "SIGNAL_ZERO_PROBES", False)
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: Parent())
    monkeypatch.setattr(os, "kill", never)
    monkeypatch.setattr(os, "_exit", lambda code: ended.set())
    work._watch_server(4242)
    assert ended.wait(5)


@pytest.mark.parametrize("parent", [None, type("Other", (), {"pid": 9999})()])
def test_on_windows_a_process_not_started_by_the_server_watches_nothing(monkeypatch, parent):
    """No parent (a script calling it), or a parent that is not the server: there is nothing to wait on."""
    started: list[object] = []
    monkeypatch.setattr(work, "SIGNAL_ZERO_PROBES", False)
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: parent)
    monkeypatch.setattr(work.threading, "Thread", lambda *args, **kwargs: started.append(kwargs))
    work._watch_server(4242)
    assert started == []


# ------------------------------------------------------------------------------------------------ the command line

def test_the_teacher_address_file_is_described_truly_on_each_system(monkeypatch, capsys):
    """Not a terminal (capsys): the teacher's address goes to a file. Mode 0600 keeps it private on POSIX only; on
    Windows the message says where it is and claims nothing more."""
    made: list[Path] = []
    monkeypatch.setattr(cli.atexit, "register", lambda unlink, **kwargs: made.append(unlink.__self__))
    try:
        for private in (True, False):
            monkeypatch.setattr(cli, "PRIVATE_FILES", private)
            cli.announce("http://192.168.1.5:7860/", "http://192.168.1.5:7860/#teacher=abcdefghij")
            said = capsys.readouterr().out
            assert said.startswith("Students: http://192.168.1.5:7860/\nTeacher: the address is in ")
            assert ("readable only by the user" in said) == private
            assert ("in the temporary folder of the user" in said) == (not private)
        assert made and all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in made)
        assert made[0].read_text().strip().endswith("#teacher=abcdefghij")
    finally:
        for path in made:
            path.unlink(missing_ok=True)


def test_no_user_name_is_no_crash(monkeypatch):
    """getpass finds no name on a Windows without %USERNAME% (it then imports pwd, which Windows lacks)."""
    def nameless() -> str:
        raise ImportError("No module named 'pwd'")

    monkeypatch.setattr(cli.getpass, "getuser", nameless)
    assert cli.user_name() == "who runs ConvScope"


def test_the_token_file_help_claims_privacy_only_where_the_mode_gives_it(monkeypatch, capsys):
    for private in (True, False):
        monkeypatch.setattr(cli, "PRIVATE_FILES", private)
        with pytest.raises(SystemExit):
            cli.parse_args(["--help"])
        said = " ".join(capsys.readouterr().out.split())
        assert ("readable by you only" in said) == private


# ------------------------------------------------------------------------------------------------ requirements

def test_uvloop_is_required_everywhere_but_windows_and_every_other_pin_everywhere():
    """uvloop has no Windows build: pip skips it there (uvicorn then runs on asyncio's own loop)."""
    from packaging.requirements import Requirement

    lines = (ROOT / "requirements.txt").read_text().splitlines()
    pins = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    uvloop = next(p for p in pins if p.name == "uvloop")
    assert uvloop.marker is not None
    assert not uvloop.marker.evaluate(WINDOWS_MARKERS)
    assert uvloop.marker.evaluate(LINUX_MARKERS) and uvloop.marker.evaluate(MACOS_MARKERS)
    others = [p for p in pins if p.name != "uvloop"]
    assert others and all(p.marker is None and str(p.specifier).startswith("==") for p in others)


# ------------------------------------------------------------------------------------------------ POSIX-only calls

# What Windows lacks (or, for os.kill, does differently: it ends the process named). Each use in demo/ must sit
# inside an `if` that tests one of GUARDS, or a `try` whose `except` catches what a missing call raises.
POSIX_ONLY_ATTRIBUTES = {
    "os": {"nice", "getuid", "geteuid", "getgid", "getegid", "getpgid", "setsid", "killpg", "fork", "forkpty",
           "kill", "sched_getaffinity", "sched_setaffinity", "getloadavg", "sysconf", "statvfs", "chown", "mkfifo",
           "getpwuid", "setpgrp", "wait3", "wait4", "WNOHANG"},
    "signal": {"SIGHUP", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD", "SIGPIPE", "SIGQUIT", "SIGSTOP",
               "SIGCONT", "alarm", "setitimer", "pause", "pthread_kill", "pthread_sigmask", "siginterrupt"},
}
POSIX_ONLY_METHODS = {"set_forkserver_preload"}  # on any object: a forkserver context's
POSIX_ONLY_MODULES = {"pwd", "grp", "fcntl", "resource", "termios", "tty", "pty", "posix", "syslog"}
POSIX_ONLY_STRINGS = ("/proc/", "/dev/shm", "libc.so", "forkserver", "/tmp/")
GUARDS = ("hasattr(os", "hasattr(signal", "sys.platform", "os.name", "SIGNAL_ZERO_PROBES", "PRIVATE_FILES",
          "== 'forkserver'")
GUARD_EXCEPTIONS = {"AttributeError", "ImportError", "ModuleNotFoundError", "OSError", "NotImplementedError"}


def _posix_only(node: ast.AST, in_call: bool) -> str | None:
    """What POSIX-only thing ``node`` uses, if any (strings count only as a call's arguments: docstrings and
    comments may name them)."""
    if isinstance(node, ast.Attribute) and node.attr in POSIX_ONLY_METHODS:
        return f".{node.attr}"
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        if node.attr in POSIX_ONLY_ATTRIBUTES.get(node.value.id, ()):
            return f"{node.value.id}.{node.attr}"
    if isinstance(node, ast.Import):
        names = [alias.name.split(".")[0] for alias in node.names]
        return next((f"import {n}" for n in names if n in POSIX_ONLY_MODULES), None)
    if isinstance(node, ast.ImportFrom) and node.module:
        if node.module.split(".")[0] in POSIX_ONLY_MODULES:
            return f"from {node.module}"
        if node.module in POSIX_ONLY_ATTRIBUTES:
            hit = [a.name for a in node.names if a.name in POSIX_ONLY_ATTRIBUTES[node.module]]
            return f"from {node.module} import {hit[0]}" if hit else None
    if in_call and isinstance(node, ast.Constant) and isinstance(node.value, str):
        return next((f"'{s}'" for s in POSIX_ONLY_STRINGS if s in node.value), None)
    return None


def _guarded(chain: list[ast.AST]) -> bool:
    """Whether some node of ``chain`` (a use's ancestors, outermost first) guards it."""
    for outer, inner in zip(chain, chain[1:], strict=False):
        if isinstance(outer, ast.If | ast.IfExp) and inner is not outer.test:
            test = ast.unparse(outer.test).replace('"', "'")
            if any(guard.replace('"', "'") in test for guard in GUARDS):
                return True
        if isinstance(outer, ast.Try) and inner in outer.body:
            caught = {ast.unparse(h.type) for h in outer.handlers if h.type is not None}
            names = {n.strip("() ") for c in caught for n in c.split(",")}
            if names & GUARD_EXCEPTIONS:
                return True
    return False


def unguarded_posix_calls(source: str, name: str) -> list[str]:
    """Every POSIX-only use in ``source`` that no guard encloses, as 'name:line: what'."""
    found: list[str] = []

    def visit(node: ast.AST, chain: list[ast.AST], in_call: bool) -> None:
        what = _posix_only(node, in_call)
        if what and not _guarded(chain + [node]):
            found.append(f"{name}:{node.lineno}: {what}")
        for child in ast.iter_child_nodes(node):
            visit(child, chain + [node], in_call or isinstance(node, ast.Call) and child is not node.func)

    visit(ast.parse(source), [], False)
    return found


def test_every_posix_only_call_in_demo_is_guarded():
    found = [hit for path in sorted((ROOT / "demo").rglob("*.py"))
             for hit in unguarded_posix_calls(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert not found, "POSIX-only calls without a guard:\n" + "\n".join(found)


def test_the_scan_finds_an_unguarded_call_and_accepts_a_guarded_one():
    bare = ("import os, signal\nimport fcntl\nos.nice(5)\nsignal.signal(signal.SIGHUP, print)\nopen('/proc/1/stat')\n"
            "ctx.set_forkserver_preload([])\n")
    assert [hit.split(": ")[1] for hit in unguarded_posix_calls(bare, "m")] == [
        "import fcntl", "os.nice", "signal.SIGHUP", "'/proc/'", ".set_forkserver_preload"]
    guarded = ("import os, sys\n"
               "if hasattr(os, 'nice'):\n    os.nice(5)\n"
               "if sys.platform != 'win32':\n    import fcntl\n"
               "try:\n    n = len(os.sched_getaffinity(0))\nexcept AttributeError:\n    n = 1\n"
               '"""A docstring may name /proc/ and os.nice."""\n')
    assert unguarded_posix_calls(guarded, "m") == []
