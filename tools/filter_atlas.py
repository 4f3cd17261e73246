"""Builds the filter atlas (demo/teaching/atlas.py): what every conv channel of the shipped CNN looks for in real
digits.

    python -m tools.filter_atlas --data-dir ../shared/data/mnist [--weights weights/cnn.safetensors]
        [--out weights/filter_atlas.safetensors] [--batch 1000]

The CNN runs over all 60,000 MNIST *training* images, as stored (uint8 / 255, no sketch preprocessing). For every
conv layer and channel, each image gives one number: the largest value of the channel's feature map over all
positions (the conv's own output, before ReLU; batch norm is folded into the shipped convs). The channel keeps the
9 images with the largest such number, ties to the lower image index, and for each the receptive field of that
position cropped from the image (zero-padded where it runs off the 28×28 image). One patch per image, so the 9
are 9 different digits, not one stroke seen at 9 neighbouring positions.

Written: a safetensors file with, per layer, '<layer>.patches' (C, 9, R, R) uint8, '.activations' (C, 9) float32,
'.images' / '.rows' / '.cols' / '.labels' (C, 9) int32; its metadata holds the weights' and MNIST's SHA-256, the
receptive field of each layer and this command. 2-3 minutes on 2 (shared) CPU cores.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

from demo import load_classifier
from demo.core.classifier import DEFAULT_WEIGHTS
from demo.core.data import load_mnist, sha256_file
from demo.teaching.atlas import DEFAULT_PATH, META_KEY, TOP, crop, receptive_fields


def channel_maxima(model: torch.nn.Sequential, images: torch.Tensor, layers: list[str],
                   batch: int) -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """For each conv layer: (N, C) float32 maximum of every channel's map per image, (N, C) int64 flat position of
    that maximum (the first one on ties), and the map's width (to turn positions back into row, col)."""
    last = layers[-1]
    maxima: dict[str, list[torch.Tensor]] = {name: [] for name in layers}
    where: dict[str, list[torch.Tensor]] = {name: [] for name in layers}
    widths: dict[str, int] = {}
    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(images), batch):
            x = images[i:i + batch].float()[:, None] / 255
            for name, stage in model.named_children():  # stop after the last conv: the rest is not needed
                x = stage(x)
                if name in maxima:
                    flat = x.flatten(2)
                    value, position = flat.max(dim=2)
                    maxima[name].append(value)
                    where[name].append(position)
                    widths[name] = int(x.shape[3])
                if name == last:
                    break
            done = min(i + batch, len(images))
            if done % 10000 == 0 or done == len(images):
                print(f"  {done:,} / {len(images):,} images ({time.perf_counter() - start:.0f} s)", flush=True)
    return {name: (torch.cat(maxima[name]).numpy(), torch.cat(where[name]).numpy(), widths[name]) for name in layers}


def top_images(maxima: np.ndarray, top: int = TOP) -> np.ndarray:
    """(N, C) per-image maxima -> (C, top) image indices, largest first; a stable sort breaks ties to the lower
    index, so a rerun picks the same images even where several digits give exactly the same value."""
    return np.stack([np.argsort(-maxima[:, c], kind="stable")[:top] for c in range(maxima.shape[1])])


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m tools.filter_atlas", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data/mnist",
                   help="MNIST folder, read with demo/core/data.py (default: ../shared/data/mnist)")
    p.add_argument("--weights", default=str(DEFAULT_WEIGHTS),
                   help=f"classifier weights (default: {DEFAULT_WEIGHTS.relative_to(DEFAULT_WEIGHTS.parents[1])})")
    p.add_argument("--out", default=str(DEFAULT_PATH),
                   help=f"atlas file to write (default: {DEFAULT_PATH.relative_to(DEFAULT_PATH.parents[1])} in the "
                        "project)")
    p.add_argument("--batch", type=int, default=1000, help="images per forward pass (default: 1000)")
    args = p.parse_args()
    start = time.perf_counter()
    clf = load_classifier(args.weights)
    mnist = load_mnist(args.data_dir)
    images, labels = mnist.train_images, mnist.train_labels.numpy()
    fields = receptive_fields(clf.model)
    layers = list(fields)
    print(f"{len(images):,} training images through {', '.join(layers)} of {clf.path}", flush=True)
    found = channel_maxima(clf.model, images, layers, args.batch)

    pixels = images.numpy()
    tensors: dict[str, np.ndarray] = {}
    for name in layers:
        maxima, where, width = found[name]
        chosen = top_images(maxima)  # (C, TOP)
        channel = np.arange(chosen.shape[0])[:, None]
        rows, cols = np.divmod(where[chosen, channel], width)
        fld = fields[name]
        tensors[f"{name}.patches"] = np.stack([[crop(pixels[n], fld, r, c) for n, r, c in zip(ns, rs, cs, strict=True)]
                                               for ns, rs, cs in zip(chosen, rows, cols, strict=True)])
        tensors[f"{name}.activations"] = maxima[chosen, channel].astype(np.float32)
        tensors[f"{name}.images"] = chosen.astype(np.int32)
        tensors[f"{name}.rows"] = rows.astype(np.int32)
        tensors[f"{name}.cols"] = cols.astype(np.int32)
        tensors[f"{name}.labels"] = labels[chosen].astype(np.int32)

    weights_path = Path(clf.path)
    seconds = round(time.perf_counter() - start, 1)
    meta = {
        "description": "For every channel of every conv layer, the 9 MNIST training images whose largest value of "
                       "the channel's feature map (conv output before ReLU) is highest, one per image, with the "
                       "receptive field of that position cropped (zero-padded off the image). "
                       "See demo/teaching/atlas.py.",
        "layers": layers,
        "top": TOP,
        "receptive_fields": {name: {"size": f.size, "stride": f.stride, "offset": f.offset}
                             for name, f in fields.items()},
        "images": f"MNIST training set, all {len(images)} images, uint8 / 255 as stored",
        "weights": weights_path.name,
        "weights_sha256": sha256_file(Path(weights_path)),
        "mnist_sha256": mnist.sha256,
        "batch": args.batch,
        "command": shlex.join(["python", "-m", "tools.filter_atlas", *sys.argv[1:]]),
        "seconds": seconds,
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
    }
    from safetensors.numpy import save_file

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(out), metadata={META_KEY: json.dumps(meta)})
    out.chmod(0o644)  # readable like the other weights files (safetensors writes owner-only)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB) in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
