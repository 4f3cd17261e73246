"""What a running ConvScope server exposes to the network: only this machine, only its own assets, no share link.

Everything here talks to a REAL ``python -m demo`` (``tests.harness.running_app``), because the risks are properties
of the launched server, not of ``build_app``:

* the listening socket is bound to 127.0.0.1 by default, so other hosts on a classroom LAN cannot reach it;
* none of Gradio 6's file-serving routes (``/gradio_api/file=``, ``/gradio_api/file/``, ``/static/``, ``/assets/``,
  ``/svelte/``, ``/gradio_api/custom_component/…``, ``/gradio_api/proxy=``, the old ``/file=``) hands out files
  outside Gradio's own assets and the upload folder - not ``/etc/passwd``, not the project's source, not its
  weights - however the path is spelled (absolute, ``../``, ``%2e%2e%2f``, ``%252e``, backslashes, NUL, URLs);
* an uploaded file CAN be fetched back, so the refusals above are the route being safe, not the route being broken;
* ``--share`` is off by default: no ``gradio.live`` link in the server log or the page config.

Paths that httpx would normalise (literal ``/../``) are sent a second time over a raw ``http.client`` connection.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import ipaddress
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from PIL import Image

pytestmark = pytest.mark.server  # one real app for the module

ROOT = Path(__file__).resolve().parent.parent
DEPTH = 24  # more "../" than any install path has components, so a traversal would reach "/"


# ---------------------------------------------------------------- fixtures and helpers

@pytest.fixture(scope="module")
def app_url(app_server):
    return app_server


@pytest.fixture(scope="module")
def port(app_url) -> int:
    return urlsplit(app_url).port


@pytest.fixture(scope="module")
def http(app_url):
    # follow_redirects=False: a 3xx towards a file (or another host) must show up as what it is
    with httpx.Client(base_url=app_url, follow_redirects=False, timeout=30) as client:
        yield client


def raw_get(port: int, path: str) -> tuple[int, bytes]:
    """GET with the request target sent byte for byte: http.client does not resolve '..' or re-encode anything."""
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _png_bytes() -> bytes:
    # a fresh random-looking picture per run, so the round trip cannot be satisfied by some cached file
    img = Image.frombytes("RGB", (16, 16), hashlib.sha256(uuid.uuid4().bytes).digest() * 24)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _upload(http, name: str, data: bytes) -> str:
    response = http.post("/gradio_api/upload", files={"files": (name, data, "image/png")})
    assert response.status_code == 200, response.text
    return response.json()[0]


@pytest.fixture(scope="module")
def uploaded(http) -> tuple[str, bytes]:
    """(server-side path, bytes) of a PNG uploaded the way the browser and gradio_client do."""
    data = _png_bytes()
    return _upload(http, "digit.png", data), data


@pytest.fixture(scope="module")
def upload_root(uploaded) -> Path:
    # Gradio stores uploads as <GRADIO_TEMP_DIR>/<content hash>/<name>; the harness made GRADIO_TEMP_DIR for us
    return Path(uploaded[0]).parent.parent


# Files that must never be served. The marker is a chunk of the file's CONTENT (error bodies echo the requested path,
# never content), so "marker in body" means the file leaked.
TARGETS = {
    "etc-passwd": Path("/etc/passwd"),
    "demo-ui-py": ROOT / "demo" / "page" / "ui.py",
    "weights": ROOT / "weights" / "cnn.safetensors",
}


def marker(path: Path) -> bytes:
    data = path.read_bytes()
    assert len(data) >= 32, f"{path} is too short to recognise"
    return data[:64]  # /etc/passwd: "root:x:0:0:…"; ui.py: its docstring; safetensors: header length + JSON header


def spellings(target: Path) -> dict[str, str]:
    """Ways of naming ``target`` in a URL path, each tried on every file route."""
    bare = str(target).lstrip("/")
    up = "../" * DEPTH
    return {
        "absolute": str(target),
        "cwd-relative": os.path.relpath(target, ROOT),  # the server runs in the repo root
        "dotdot": up + bare,
        "dotdot-slash-encoded": "..%2f" * DEPTH + bare.replace("/", "%2f"),
        "dotdot-all-encoded": "%2e%2e%2f" * DEPTH + bare.replace("/", "%2f"),
        "double-encoded": "%252e%252e%252f" * DEPTH + bare.replace("/", "%252f"),
        "backslash": "..\\" * DEPTH + bare.replace("/", "\\"),
        "backslash-encoded": "..%5c" * DEPTH + bare.replace("/", "%5c"),
        "absolute-encoded": quote(str(target), safe=""),
        "double-slash": "/" + str(target),
        "file-url": "file://" + str(target),
        "nul-suffix": str(target) + "%00.png",
        "dot-segments": "./" + up + "./" + bare,
    }


def _html_component_id() -> str:
    """Gradio's id for gr.HTML (sha256 of class name + module file), so /custom_component/ reaches its file code."""
    gradio_dir = importlib.util.find_spec("gradio").submodule_search_locations[0]
    return hashlib.sha256(f"HTML_{os.path.join(gradio_dir, 'components', 'html.py')}".encode()).hexdigest()


# Every route in gradio/routes.py that turns part of the URL into a file to send (Gradio 6.31).
FILE_ROUTES = {
    "gradio_api/file=": "/gradio_api/file=",  # uploads and cached files; takes a filesystem path
    "gradio_api/file/": "/gradio_api/file/",  # deprecated alias of the above
    "file=": "/file=",  # Gradio <= 4 spelling: must not have come back unprotected
    "file/": "/file/",
    "static": "/static/",  # gradio/templates/frontend/static
    "assets": "/assets/",  # gradio/templates/frontend/assets
    "svelte": "/svelte/",  # gradio/templates/frontend/svelte (SSR bundle)
    "custom_component": f"/gradio_api/custom_component/{_html_component_id()}/client/",
}


def assert_not_served(status: int, body: bytes, secret: bytes, path: str) -> None:
    assert secret not in body, f"{path} leaked the file ({status}): {body[:200]!r}"
    # ...and not a 2xx/3xx either: a redirect or an empty 200 would still be a door left open
    assert status >= 400, f"{path} answered {status}: {body[:200]!r}"


# ---------------------------------------------------------------- 1. bound to this machine only

def _non_loopback_addresses() -> list[str]:
    found: set[str] = set()
    try:
        found.update(subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout.split())
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        found.update(info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None))
    except OSError:
        pass
    keep = []
    for address in found:
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            continue
        if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified):  # link-local would need a scope id
            keep.append(str(ip))
    return sorted(keep)


OTHER_ADDRESSES = _non_loopback_addresses()


@pytest.mark.parametrize("address", OTHER_ADDRESSES or [pytest.param(None, marks=pytest.mark.skip(
    reason="this machine has no non-loopback address to try"))])
def test_other_addresses_are_refused(port, address):
    # control 1: the server is up and answers on loopback
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    # control 2: this address IS reachable from here - a listener on all interfaces answers on it - so a refusal
    # below is the server's binding, not a dead address
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        try:
            listener.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
        except OSError as error:
            pytest.skip(f"cannot open a control listener for {address}: {error}")
        listener.listen(1)
        try:
            socket.create_connection((address, listener.getsockname()[1]), timeout=3).close()
        except OSError as error:
            pytest.skip(f"{address} is not reachable from this machine ({error})")
    with pytest.raises(OSError):  # ConnectionRefusedError in practice
        socket.create_connection((address, port), timeout=3).close()


def _listeners(port: int) -> set[str]:
    """Local addresses of the LISTEN sockets on ``port``, from the kernel's own table."""
    found = set()
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A = TCP_LISTEN
                raw = bytes.fromhex(address)
                # /proc prints each 32-bit word in host (little-endian) order
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, width, 4))
                found.add(str(ipaddress.ip_address(raw)))
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_listening_socket_is_loopback_only(port):
    # independent of the machine having other addresses: 0.0.0.0 or :: here would mean "every interface"
    listeners = _listeners(port)
    assert listeners, f"no LISTEN socket found on port {port}"
    assert listeners <= {"127.0.0.1", "::1"}, listeners


# ---------------------------------------------------------------- 2. no file outside Gradio's assets and uploads

@pytest.mark.parametrize("spelling", list(spellings(Path("/x"))))
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("route", list(FILE_ROUTES))
def test_file_routes_do_not_serve_outside_files(http, port, route, target, spelling):
    secret = marker(TARGETS[target])
    path = FILE_ROUTES[route] + spellings(TARGETS[target])[spelling]
    response = http.get(path)  # httpx: percent-escapes kept, dot segments resolved client-side
    assert_not_served(response.status_code, response.content, secret, f"httpx GET {path}")
    status, body = raw_get(port, path)  # raw: '..' reaches the server as written
    assert_not_served(status, body, secret, f"raw GET {path}")


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("route", ["gradio_api/file=", "gradio_api/file/"])
def test_upload_folder_cannot_be_climbed_out_of(http, port, uploaded, route, target):
    # the upload folder IS allowed, so a path that starts inside it and climbs out is the classic prefix-check bug
    secret = marker(TARGETS[target])
    start = Path(uploaded[0]).parent
    for middle in ("../" * DEPTH, "..%2f" * DEPTH, "%2e%2e/" * DEPTH):
        path = f"{FILE_ROUTES[route]}{start}/{middle}{str(TARGETS[target]).lstrip('/')}"
        response = http.get(path)
        assert_not_served(response.status_code, response.content, secret, f"httpx GET {path}")
        status, body = raw_get(port, path)
        assert_not_served(status, body, secret, f"raw GET {path}")


def test_sibling_of_upload_folder_is_not_served(http, upload_root):
    # "/tmp/convscope-gradio-abc-sibling" starts with the upload folder's name: a string-prefix check would allow it
    sibling = Path(f"{upload_root}-sibling")
    sibling.mkdir()
    try:
        secret = f"sibling secret {uuid.uuid4()}".encode()
        (sibling / "secret.png").write_bytes(secret)
        response = http.get(f"/gradio_api/file={sibling / 'secret.png'}")
        assert_not_served(response.status_code, response.content, secret, str(sibling / "secret.png"))
    finally:
        shutil.rmtree(sibling, ignore_errors=True)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("route", ["/gradio_api/proxy=", "/gradio_api/file="])
def test_url_fetching_routes_do_not_reach_local_files(http, port, route, target):
    # /proxy= and /file=<url> fetch URLs server-side: neither may read file:// nor loop back to this server
    secret = marker(TARGETS[target])
    for url in (f"file://{TARGETS[target]}", f"http://127.0.0.1:{port}/gradio_api/file={TARGETS[target]}",
                f"http://localhost:{port}/static/{'../' * DEPTH}{str(TARGETS[target]).lstrip('/')}"):
        response = http.get(route + url)
        assert_not_served(response.status_code, response.content, secret, route + url)


def test_upload_names_cannot_place_files_outside_the_upload_folder(http, upload_root):
    # the name the browser sends is echoed back as the stored path; climbing out of the folder must be impossible
    escape = f"convscope-escape-{uuid.uuid4().hex}.png"
    for name in ("../" * DEPTH + "tmp/" + escape, "..\\" * DEPTH + escape, "/tmp/" + escape):
        stored = Path(_upload(http, name, _png_bytes()))
        assert stored.resolve().is_relative_to(upload_root.resolve()) and ".." not in stored.parts, (name, stored)
    assert not (Path("/tmp") / escape).exists() and not (Path("/") / escape).exists()


# ---------------------------------------------------------------- 3. ...while the app's own files still work

@pytest.mark.parametrize("route", ["gradio_api/file=", "gradio_api/file/"])
def test_uploaded_file_can_be_fetched_back(http, port, uploaded, route):
    # the URL form Gradio gives uploaded files; if this broke, the refusals above would prove nothing
    server_path, data = uploaded
    response = http.get(FILE_ROUTES[route] + server_path)
    assert response.status_code == 200 and response.content == data
    assert raw_get(port, FILE_ROUTES[route] + server_path) == (200, data)


def test_asset_routes_serve_their_own_files(http):
    # same for the directory-rooted routes: they do serve Gradio's frontend
    page = http.get("/").text
    bundle = re.search(r"\./assets/(index-[\w-]+\.js)", page)
    assert bundle, "the page names no ./assets/index-*.js bundle"
    assert http.get(f"/assets/{bundle.group(1)}").status_code == 200
    logo = http.get("/static/img/logo.svg")
    assert logo.status_code == 200 and b"<svg" in logo.content


# ---------------------------------------------------------------- 4. no public share link by default

def test_config_has_no_share_link(http, app_url):
    config = http.get("/config")
    assert config.status_code == 200
    # the page's root is where the browser was told the app lives: this machine, not a tunnel
    assert config.json()["root"].rstrip("/") == app_url
    for text in (config.text, http.get("/").text, http.get("/gradio_api/info").text):
        assert "gradio.live" not in text


def test_server_log_has_no_share_link(upload_root, port):
    # tests.harness: GRADIO_TEMP_DIR is <temp>/uploads, the log <temp>/server.log
    log = upload_root.parent / "server.log"
    assert log.is_file(), f"tests.harness no longer keeps its log at {log}"
    local_line = re.compile(rf"Running on local URL:\s+http://\S+:{port}\b")
    deadline = time.monotonic() + 10
    while not local_line.search(log.read_text()) and time.monotonic() < deadline:  # launch() prints after serving
        time.sleep(0.2)
    text = log.read_text()
    assert local_line.search(text), text[-2000:]  # proves we read this server's log, up to the end of launch()
    assert "gradio.live" not in text and "public URL" not in text, text[-2000:]
