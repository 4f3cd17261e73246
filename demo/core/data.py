"""Finding and loading real MNIST through ``torchvision.datasets.MNIST``.

Accepted ``data_dir`` layouts:
  * a folder holding the four official ``*-ubyte.gz`` files (like ``../shared/data/mnist``, which may be read-only):
    they are decompressed once into a cache folder in torchvision's layout and checked against
    ``SHA256SUMS.uncompressed`` when that file is present;
  * torchvision's own layout, ``<data_dir>/MNIST/raw/*-ubyte``;
  * neither: torchvision downloads into ``data_dir`` (needs internet), and without internet we stop with a message
    naming the folder we looked in.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "convscope"


class MnistNotFoundError(RuntimeError):
    """MNIST is neither in the given folder nor downloadable."""


@dataclass(frozen=True)
class Mnist:
    train_images: torch.Tensor  # uint8 (60000, 28, 28)
    train_labels: torch.Tensor  # int64 (60000,)
    test_images: torch.Tensor  # uint8 (10000, 28, 28)
    test_labels: torch.Tensor  # int64 (10000,)
    root: Path  # torchvision root actually read
    sha256: dict[str, str]  # file name -> SHA-256 of its uncompressed content


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_expected_sums(folder: Path) -> dict[str, str]:
    sums = folder / "SHA256SUMS.uncompressed"
    if not sums.is_file():
        return {}
    expected = {}
    for line in sums.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            expected[parts[1].lstrip("*")] = parts[0]
    return expected


def _decompress_into_cache(data_dir: Path, cache_dir: Path) -> Path:
    """Decompresses the official .gz files into ``<cache_dir>/mnist/MNIST/raw`` (once); returns the torchvision root."""
    root = cache_dir / "mnist"
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    expected = _read_expected_sums(data_dir)
    for name in FILES:
        target = raw / name
        if target.is_file() and (name not in expected or sha256_file(target) == expected[name]):
            continue
        # A temporary file of this process's own, renamed into place at once: several processes starting together
        # (copies behind the balancer) each write their own and the last rename wins, with the same content.
        fd, name_tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=raw)
        tmp = Path(name_tmp)
        try:
            with gzip.open(data_dir / f"{name}.gz", "rb") as src, os.fdopen(fd, "wb") as dst:
                shutil.copyfileobj(src, dst)
            if name in expected and sha256_file(tmp) != expected[name]:
                raise MnistNotFoundError(f"{data_dir / (name + '.gz')} does not match SHA256SUMS.uncompressed: "
                                         "the file is corrupt; replace it with the official one")
            os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is as readable as any download
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
    return root


def resolve_mnist_root(data_dir: str | os.PathLike, cache_dir: str | os.PathLike = DEFAULT_CACHE,
                       download: bool = True) -> Path:
    """Returns a folder that ``torchvision.datasets.MNIST(root=...)`` can read, preparing it if needed."""
    data_dir = Path(data_dir).expanduser().resolve()
    if all((data_dir / "MNIST" / "raw" / name).is_file() for name in FILES):
        return data_dir
    if all((data_dir / f"{name}.gz").is_file() for name in FILES):
        return _decompress_into_cache(data_dir, Path(cache_dir).expanduser())
    if download:
        from torchvision.datasets import MNIST

        try:
            MNIST(root=str(data_dir), train=True, download=True)
            MNIST(root=str(data_dir), train=False, download=True)
            return data_dir
        except Exception as error:  # torchvision raises RuntimeError/URLError/OSError depending on the failure
            raise MnistNotFoundError(
                f"MNIST was not found in {data_dir} (looked for the four *-ubyte.gz files, or MNIST/raw/*-ubyte), "
                f"and downloading it failed ({type(error).__name__}: {error}). Point --data-dir at a folder with "
                "the official files, e.g. --data-dir ../shared/data/mnist") from error
    raise MnistNotFoundError(f"MNIST was not found in {data_dir} (looked for the four *-ubyte.gz files, "
                             "or MNIST/raw/*-ubyte)")


def load_mnist(data_dir: str | os.PathLike, cache_dir: str | os.PathLike = DEFAULT_CACHE,
               download: bool = True) -> Mnist:
    """Loads both MNIST splits as whole tensors (training works on whole batches, no per-sample transforms)."""
    from torchvision.datasets import MNIST

    root = resolve_mnist_root(data_dir, cache_dir, download)
    train = MNIST(root=str(root), train=True, download=False)
    test = MNIST(root=str(root), train=False, download=False)
    raw = Path(train.raw_folder)
    return Mnist(train.data, train.targets, test.data, test.targets, root,
                 {name: sha256_file(raw / name) for name in FILES})


def load_mnist_test(data_dir: str | os.PathLike, cache_dir: str | os.PathLike = DEFAULT_CACHE,
                    download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Only the 10,000 test images (uint8 N×28×28) and labels."""
    from torchvision.datasets import MNIST

    test = MNIST(root=str(resolve_mnist_root(data_dir, cache_dir, download)), train=False, download=False)
    return test.data, test.targets
