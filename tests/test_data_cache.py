"""MNIST's cache made by several processes at once (copies of the app starting together behind the balancer)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from demo.core.data import FILES, sha256_file

# Each process imports everything first, then waits for the start file, so all of them decompress at the same moment.
RESOLVE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from demo.core.data import resolve_mnist_root
    start = Path(sys.argv[3])
    Path(sys.argv[4]).touch()
    while not start.exists():
        time.sleep(0.01)
    print(resolve_mnist_root(sys.argv[1], sys.argv[2], download=False))
""")


@pytest.mark.slow
def test_processes_starting_together_share_the_cache(mnist_dir: Path, tmp_path: Path) -> None:
    if not (mnist_dir / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("the official .gz files are needed to fill a cache")
    cache, start = tmp_path / "cache", tmp_path / "start"
    ready = [tmp_path / f"ready{i}" for i in range(3)]
    processes = [subprocess.Popen([sys.executable, "-c", RESOLVE, str(mnist_dir), str(cache), str(start), str(r)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in ready]
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:  # torch imported in each
        time.sleep(0.05)
    start.touch()
    results = [process.communicate(timeout=120) for process in processes]
    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err
        assert out.strip() == str(cache / "mnist")
    raw = cache / "mnist" / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(FILES)  # no temporary file left behind
    expected = dict(line.split()[::-1] for line in (mnist_dir / "SHA256SUMS.uncompressed").read_text().splitlines()
                    if len(line.split()) == 2)
    for name in FILES:
        assert sha256_file(raw / name) == expected.get(name, expected.get("*" + name)), name
