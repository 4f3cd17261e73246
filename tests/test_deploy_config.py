"""The balancer's configuration that deploy/cluster.py writes (fast: nothing is started): valid for HAProxy, the same
hash ring whatever the order of --servers, --classroom's room without the balancer's cookie on several machines, and
HAProxy versions too old for it refused with the reason."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.harness import ROOT

sys.path.insert(0, str(ROOT / "deploy"))
import cluster  # (deploy/ is a folder of scripts, not a package)

MACHINES = ["10.0.0.5:7860", "10.0.0.6:7860", "10.0.0.7:7860"]


def backend(config: str, name: str) -> str:
    return re.search(rf"^backend {name}\n(.*?)(?=^backend |\Z)", config, re.M | re.S).group(1)


def ring(config: str) -> dict[str, str]:
    """The rooms backend's servers: address -> their ring id."""
    return dict(re.findall(r"^\s+server \S+ (\S+) id (\d+)$", backend(config, "rooms"), re.M))


def test_the_hash_ring_does_not_depend_on_the_order_of_the_servers():
    forward = cluster.haproxy_config("0.0.0.0:8080", MACHINES, machines=True)
    backward = cluster.haproxy_config("0.0.0.0:8080", MACHINES[::-1], machines=True)
    assert ring(forward) == ring(backward) and len(set(ring(forward).values())) == 3
    fewer = cluster.haproxy_config("0.0.0.0:8080", MACHINES[1:], machines=True)
    assert ring(fewer) == {a: i for a, i in ring(forward).items() if a != MACHINES[0]}  # the others keep their places
    with pytest.raises(ValueError):
        cluster.haproxy_config("0.0.0.0:8080", [MACHINES[0], MACHINES[0]], machines=True)


def test_several_machines_keep_their_codes_and_the_classroom_room_has_no_cookie():
    machines = cluster.haproxy_config("0.0.0.0:8080", MACHINES, machines=True)
    rooms = backend(machines, "rooms")
    assert "check" not in rooms and "retries 0" in rooms and "timeout connect 1s" in rooms
    assert '\\"room_server\\": \\"down\\"' in rooms  # what the pages recognise
    main_room = backend(machines, "main_room")
    assert "cookie" not in main_room and re.findall(r"^\s+server \S+ (\S+)", main_room, re.M) == [MACHINES[0]]
    one = cluster.haproxy_config("127.0.0.1:8080", MACHINES[:2])
    assert "check" in backend(one, "rooms") and "cookie CONVSCOPE" in backend(one, "main_room")


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed")
@pytest.mark.parametrize("machines", [False, True])
def test_haproxy_accepts_the_configuration(tmp_path, machines):
    printed = subprocess.run([sys.executable, "deploy/cluster.py", "--servers", ",".join(MACHINES), "--print-config"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert printed.returncode == 0, printed.stderr
    config = printed.stdout if machines else cluster.haproxy_config("127.0.0.1:8080", MACHINES[:2])
    if machines:
        assert config == cluster.haproxy_config("127.0.0.1:8080", MACHINES, machines=True)
    path = tmp_path / "haproxy.cfg"
    path.write_text(config)
    checked = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_an_haproxy_too_old_is_refused_with_the_reason(tmp_path, capsys):
    old = tmp_path / "haproxy"
    old.write_text("#!/bin/sh\necho 'HAProxy version 2.4.22-0ubuntu0.22.04.3 2023/12/04'\n")
    old.chmod(0o755)
    assert cluster.haproxy_version(str(old)) == (2, 4)
    assert cluster.main(["--haproxy", str(old), "--servers", MACHINES[0]]) == 2
    assert "HAProxy 2.4 is installed; the configuration needs 2.6 or newer" in capsys.readouterr().err
