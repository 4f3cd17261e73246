"""Shared fixtures. MNIST comes from ../shared/data/mnist (or $CONVSCOPE_MNIST); CI must have it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.harness import chromium_path, running_app

ROOT = Path(__file__).resolve().parent.parent

MNIST_DIR = Path(os.environ.get("CONVSCOPE_MNIST", ROOT.parent / "shared" / "data" / "mnist"))


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file() and not (MNIST_DIR / "MNIST").is_dir():
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
def nearest_cache(tmp_path_factory) -> Path:
    """One cache folder for the whole run: the nearest digits' 60,000 embeddings are built once (about a minute on 2
    cores), by whichever test needs them first, and read back by the others, unit tests and apps alike."""
    return tmp_path_factory.mktemp("nearest-cache")


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


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium under playwright, one per test module (its pages are the users)."""
    from bench.harness import chromium

    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def app_server():
    """One real ``python -m demo`` shared by the HTTP tests (starting one takes about 10 s). Tests that need other
    flags, or that break a server on purpose, start their own."""
    with running_app() as url:
        yield url


@pytest.fixture(scope="module")
def module_page(browser, app_url):
    """One page of the module's app (the module defines ``app_url``), shared by its tests and closed after them."""
    from bench.harness import open_page

    page = open_page(browser, app_url)
    yield page
    page.close()
