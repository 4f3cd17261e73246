"""Starting the app: flags, a taken port, --share without internet, the importable `demo` object."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.harness import ROOT, free_port

pytestmark = [pytest.mark.slow, pytest.mark.server]  # each test starts (or tries to start) the app

ENV = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}


def test_help_lists_the_flags():
    result = subprocess.run([sys.executable, "-m", "demo", "--help"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0
    for flag in ("--host", "--port", "--weights", "--share", "--data-dir"):
        assert flag in result.stdout
    assert "127.0.0.1" in result.stdout


def test_port_already_taken_is_a_clear_message():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "demo", "--port", str(port)], cwd=ROOT, capture_output=True,
                                text=True, timeout=120, env=ENV)
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_weights_stop_with_the_fix(tmp_path):
    result = subprocess.run([sys.executable, "-m", "demo", "--weights", str(tmp_path / "x.safetensors")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, env=ENV)
    assert result.returncode == 2 and "x.safetensors" in result.stderr and "python train.py" in result.stderr


def test_share_without_internet_says_so_and_serves_locally(tmp_path):
    """This machine has no internet: --share must warn within seconds and keep serving on 127.0.0.1."""
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "demo", "--share", "--port", str(port), "--workers", "0"],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**ENV, "GRADIO_TEMP_DIR": str(tmp_path)})
    try:
        start = time.monotonic()
        while time.monotonic() - start < 60:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail(f"the app did not serve locally with --share:\n{log.read_text()}")
        text = log.read_text()
        assert "no internet connection" in text and "serving locally" in text
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_app_module_changes_nothing_on_import_and_exposes_the_blocks_when_read():
    """``import demo.app`` builds no page, starts no worker and leaves Gradio and the environment as they were; the
    page is made when ``demo`` is first read (then the process is configured as every entry point configures it)."""
    code = ("import os, gradio.state_holder as holder; before = holder.SessionState; import demo.app as app; "
            "assert 'demo' not in vars(app) and app.app.cache_info().currsize == 0; "
            "assert holder.SessionState is before and 'GRADIO_ANALYTICS_MAX_EVENTS' not in os.environ; "
            "blocks = app.demo; assert vars(app)['demo'] is blocks is app.demo and holder.SessionState is before; "
            "assert os.environ['GRADIO_ANALYTICS_MAX_EVENTS'] == '500'; "
            "print(sorted(d.api_name for d in blocks.fns.values() if d.api_name)); print('checked')")
    env = {key: value for key, value in ENV.items() if key != "GRADIO_ANALYTICS_MAX_EVENTS"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("checked")
    assert "'predict'" in result.stdout and "'draw'" in result.stdout  # the named API endpoints
