"""Shared fixtures. MNIST comes from ../shared/data/mnist (or $CONVSCOPE_MNIST); CI must have it.

Costly things are made once per run and shared: the classifier, one Chromium, two real servers (the plain app, with
MNIST when it is there, and the class room). Artefacts built from the weights and the data (the nearest digits'
embeddings) live in a cache folder that outlives the run, ``$CONVSCOPE_CACHE`` or ``~/.cache/convscope``, the one
the app itself uses: each file is named after the SHA-256 of what it was built from, so a change to the weights or
the data builds it again and a run on a warm machine reads it back.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from demo.core.data import DEFAULT_CACHE
from tests.harness import CLASSROOM_ARGS, chromium_path, running_app

ROOT = Path(__file__).resolve().parent.parent

MNIST_DIR = Path(os.environ.get("CONVSCOPE_MNIST", ROOT.parent / "shared" / "data" / "mnist"))


def mnist_present() -> bool:
    """The official files, or torchvision's own layout, in MNIST_DIR."""
    return (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file() or (MNIST_DIR / "MNIST").is_dir()


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    if not mnist_present():
        if os.environ.get("CI"):
            pytest.fail(f"MNIST is missing from {MNIST_DIR}; CI must have ../shared/data/mnist")
        pytest.skip(f"MNIST not found in {MNIST_DIR} (set CONVSCOPE_MNIST)")
    return MNIST_DIR


@pytest.fixture(scope="session")
def mnist_test(mnist_dir):
    from demo.core.data import load_mnist_test

    images, labels = load_mnist_test(mnist_dir)
    return images.numpy(), labels.numpy()


@pytest.fixture(scope="session")
def build_cache() -> Path:
    """The cache folder for built artefacts, shared with the apps the tests start (through $CONVSCOPE_CACHE)."""
    folder = Path(os.environ.get("CONVSCOPE_CACHE") or DEFAULT_CACHE)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["CONVSCOPE_CACHE"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def clf():
    from demo import load_classifier

    return load_classifier()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``browser`` need Debian's chromium: skipped without it here, an error in CI (which installs it)."""
    if chromium_path() is not None or not any("browser" in item.keywords for item in items):
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("chromium is missing in CI: .ci/setup should have installed it")
    skip = pytest.mark.skip(reason="chromium is not installed (apt-get install -y chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium under playwright, one for the run; each test's pages (or contexts, for several
    users) are its own and closed after it."""
    from tests.harness import chromium

    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def app_server(build_cache):
    """One real ``python -m demo`` shared by the HTTP and browser tests (starting one takes seconds), with real MNIST
    when it is there (the samples under the pad, the nearest digits). Tests that need other flags, or that break a
    server on purpose, start their own."""
    data = ["--data-dir", str(MNIST_DIR)] if mnist_present() else []
    with running_app(data) as url:
        yield url


@pytest.fixture(scope="session")
def classroom_server(build_cache, tmp_path_factory):
    """One real ``python -m demo --classroom`` with a class room (its pupils' address; the teacher's is
    tests.harness.teacher_url), shared by the classroom and class room tests."""
    room_db = tmp_path_factory.mktemp("room") / "room.db"
    with running_app([*CLASSROOM_ARGS, "--room-db", str(room_db)]) as url:
        yield url


@pytest.fixture(scope="module")
def module_page(browser, app_url):
    """One page of the module's app (the module defines ``app_url``), shared by its tests and closed after them."""
    from tests.harness import open_page

    page = open_page(browser, app_url)
    yield page
    page.close()


@pytest.fixture
def rooms(tmp_path):
    """A register of class rooms in a temporary folder (demo/server/rooms.py)."""
    from demo.server.rooms import Rooms

    register = Rooms(tmp_path / "rooms.db")
    yield register
    register.shut()


@pytest.fixture
def http(rooms, clf, monkeypatch):
    """The app's own routes over ``rooms``, in a test client (pupils join and send at once)."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from demo.server import identity
    from demo.server.routes import app_kwargs
    from demo.server.work import WorkPool

    monkeypatch.setattr(identity, "FIRST_SEND_AFTER_S", 0.0, raising=False)
    pool = WorkPool(clf.path, 0, clf)
    with TestClient(Starlette(**app_kwargs(pool, rooms=rooms)), base_url="http://school.example") as client:
        yield client
    pool.close()
