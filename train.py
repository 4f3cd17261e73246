"""Train ConvScope's networks on real MNIST and write the shipped weights.

    python train.py --data-dir ../shared/data/mnist                 # the shipped CNN  -> weights/cnn.*
    python train.py --data-dir ../shared/data/mnist --arch mlp      # the plain fully connected net -> weights/mlp.*
    python train.py --data-dir ../shared/data/mnist --preset fast   # small CNN, >= 99.0 % in under a minute

Augmentation is chosen for *drawn* digits and runs on whole batches of tensors (one affine warp for the batch,
pooling-based stroke thickening/thinning, and re-drawing digits from their skeletons as uniform solid strokes, as a
canvas pen makes them), so an epoch stays fast on a CPU.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from demo.core.checkpoint import save_checkpoint
from demo.core.data import DEFAULT_CACHE, MnistNotFoundError, load_mnist
from demo.core.model import build_model, count_parameters, default_config, fold_batchnorm, inference_config
from demo.core.paths import WEIGHTS_DIR
from demo.core.preprocess import disk
from demo.teaching.snapshots import DEFAULT_EPOCHS, DEFAULT_STEPS, SnapshotRecorder

PRESETS: dict[str, dict[str, Any]] = {
    # The shipped CNN: accuracy first.
    "full": {"epochs": 20, "batch_size": 128, "lr": 3e-3},
    # The fast recipe: a smaller CNN, two epochs, lighter augmentation.
    "fast": {"arch": "cnn-small", "epochs": 2, "batch_size": 128, "lr": 4e-3, "augment": 0.5, "name": "cnn_fast"},
}


# --------------------------------------------------------------------------------------------- augmentation

SKELETON_SCALE = 4  # skeletons are traced at 4× (112×112) so re-drawn curves stay smooth


def skeletons(images: torch.Tensor) -> torch.Tensor:
    """One-pixel-wide skeletons of uint8 (N, 28, 28) digits, traced at 112×112 (bool), for re-drawing as pen strokes."""
    from skimage.morphology import skeletonize

    out = torch.empty(len(images), 28 * SKELETON_SCALE, 28 * SKELETON_SCALE, dtype=torch.bool)
    for i in range(0, len(images), 2000):  # in chunks: the float upsampling of all 60,000 at once is 3 GB
        up = F.interpolate(images[i:i + 2000, None].float() / 255, scale_factor=SKELETON_SCALE, mode="bilinear",
                           align_corners=False)[:, 0]
        out[i:i + 2000] = torch.from_numpy(np.stack([skeletonize(u) for u in (up > 0.4).numpy()]))
    return out


def redraw(skeleton: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Re-draws (B, 112, 112) skeletons as solid round-pen strokes of random width; returns (B, 1, 28, 28)."""
    out = torch.empty(skeleton.shape[0], 1, 28, 28)
    # Pen radius 2-7 px at 112×112: strokes 1.25-3.75 px wide at 28×28, MNIST's range.
    radius = torch.randint(2, 8, (skeleton.shape[0],), generator=generator)
    for r in radius.unique().tolist():
        idx = (radius == r).nonzero()[:, 0]
        ink = F.conv2d(skeleton[idx, None].float(), disk(r), padding=r).clamp(max=1)
        out[idx] = F.avg_pool2d(ink, SKELETON_SCALE)  # anti-aliased, like a canvas downscaled by the preprocessing
    return out


def augment(x: torch.Tensor, skeleton: torch.Tensor | None, strength: float,
            generator: torch.Generator) -> torch.Tensor:
    """Random drawn-digit variations of a batch ``x`` (B, 1, 28, 28) in [0, 1]; ``strength`` 0 returns ``x``."""
    if strength <= 0:
        return x
    b = x.shape[0]

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(b, generator=generator)

    def chosen(p: float) -> torch.Tensor:
        return torch.rand(b, generator=generator) < p * strength

    if skeleton is not None:  # uniform solid pen strokes, the look of a canvas drawing
        pick = chosen(0.4)
        if pick.any():
            x = x.clone()
            x[pick] = redraw(skeleton[pick], generator)

    # Stroke thickness: grey dilation/erosion (3×3 max-pooling), blended by a random amount for in-between widths,
    # then stretched so the stroke core is full ink again (erosion alone leaves thin strokes faint).
    thick = chosen(0.3)
    thin = chosen(0.2) & ~thick
    dilated = F.max_pool2d(x, 3, stride=1, padding=1)
    eroded = -F.max_pool2d(-x, 3, stride=1, padding=1)
    x = torch.where(thick[:, None, None, None], x + uniform(0.5, 1.0)[:, None, None, None] * (dilated - x), x)
    x = torch.where(thin[:, None, None, None], x + uniform(0.3, 0.7)[:, None, None, None] * (eroded - x), x)
    x = (x / x.amax(dim=(1, 2, 3), keepdim=True).clamp(min=1e-3)).clamp(max=1)

    # Position, scale, rotation and shear in one affine warp for the whole batch (grid_sample is batched).
    s = strength
    angle = uniform(-15, 15) * s * math.pi / 180
    scale = 1 + uniform(-0.12, 0.12) * s
    aspect = 1 + uniform(-0.12, 0.12) * s
    shear = uniform(-0.3, 0.3) * s
    tx, ty = uniform(-0.12, 0.12) * s, uniform(-0.12, 0.12) * s  # ±1.7 px: centring by mass is not exact
    cos, sin = torch.cos(angle), torch.sin(angle)
    sx, sy = scale * aspect, scale / aspect
    # theta maps output coordinates to input coordinates: inverse of rotate·shear·scale.
    a = torch.stack([cos / sx, (sin + shear * cos) / sx, tx], dim=1)
    c = torch.stack([-sin / sy, (cos - shear * sin) / sy, ty], dim=1)
    theta = torch.stack([a, c], dim=1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False).clamp(0, 1)


# --------------------------------------------------------------------------------------------- train / evaluate

@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
             batch_size: int = 128) -> tuple[float, float, torch.Tensor]:
    """Returns (accuracy, mean loss, predictions) of ``model`` on uint8 images (batches of 128 keep each one's
    feature maps in the CPU's caches: about 2.5 times as fast as 1,000 on 2 cores)."""
    was_training = model.training
    model.eval()
    preds, loss = [], 0.0
    for i in range(0, len(images), batch_size):
        x = images[i:i + batch_size, None].float() / 255
        logits = model(x)
        loss += F.cross_entropy(logits, labels[i:i + batch_size], reduction="sum").item()
        preds.append(logits.argmax(1))
    model.train(was_training)
    pred = torch.cat(preds)
    return (pred == labels).float().mean().item(), loss / len(images), pred


def train_one_epoch(model: nn.Module, data: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer,
                    scheduler: Any, args: argparse.Namespace, generator: torch.Generator,
                    log: dict[str, Any], epoch: int) -> None:
    """One shuffled pass over the training set, evaluating on the test set ``args.evals_per_epoch`` times."""
    from tqdm import tqdm

    n = len(data["train_images"])
    order = torch.randperm(n, generator=generator)  # a fresh shuffle every epoch
    steps = math.ceil(n / args.batch_size)
    eval_at = {round(steps * (k + 1) / args.evals_per_epoch) for k in range(args.evals_per_epoch)}
    model.train()
    seen = correct = 0
    loss_sum = 0.0
    bar = tqdm(range(steps), desc=f"epoch {epoch}/{args.epochs}", unit="batch", file=sys.stderr,
               disable=args.quiet, dynamic_ncols=True)
    for step in bar:
        tick = time.perf_counter()
        idx = order[step * args.batch_size:(step + 1) * args.batch_size]
        x = data["train_images"][idx, None].float() / 255
        y = data["train_labels"][idx]
        skel = data["skeletons"][idx] if data["skeletons"] is not None else None
        x = augment(x, skel, args.augment, generator)
        logits = model(x)
        loss = F.cross_entropy(logits, y, label_smoothing=args.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        log["train_seconds"] += time.perf_counter() - tick
        if log["snapshots"] is not None:  # outside the timed part: evaluating a snapshot is not training
            log["snapshots"].after_step(model, (epoch - 1) * steps + step + 1)

        seen += len(y)
        correct += (logits.argmax(1) == y).sum().item()
        loss_sum += loss.item() * len(y)
        bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}",
                        lr=f"{scheduler.get_last_lr()[0]:.2e}", refresh=False)
        if step + 1 in eval_at:
            acc, test_loss, _ = evaluate(model, data["test_images"], data["test_labels"])
            point = {"epoch": epoch - 1 + (step + 1) / steps, "train_seconds": round(log["train_seconds"], 2),
                     "wall_seconds": round(time.perf_counter() - log["start"], 2),
                     "train_loss": loss_sum / seen, "train_acc": correct / seen,
                     "test_loss": test_loss, "test_acc": acc}
            log["curve"].append(point)
            if acc >= 0.99 and log["reached_99"] is None:
                log["reached_99"] = {"train_seconds": point["train_seconds"], "wall_seconds": point["wall_seconds"],
                                     "epoch": point["epoch"]}
            bar.write(f"  epoch {point['epoch']:.2f}: test accuracy {acc:.4f}, test loss {test_loss:.4f} "
                      f"({point['train_seconds']:.1f} s of training)", file=sys.stderr)


def per_class_report(pred: torch.Tensor, labels: torch.Tensor) -> tuple[list[float], list[list[int]]]:
    confusion = torch.zeros(10, 10, dtype=torch.int64)
    confusion.index_put_((labels, pred), torch.ones_like(labels), accumulate=True)
    per_class = (confusion.diag().float() / confusion.sum(1).clamp(min=1)).tolist()
    return [round(a, 4) for a in per_class], confusion.tolist()


def plot_curves(curve: list[dict[str, float]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display here
    import matplotlib.pyplot as plt

    epochs = [p["epoch"] for p in curve]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, [p["train_loss"] for p in curve], label="train (augmented, running)")
    ax_loss.plot(epochs, [p["test_loss"] for p in curve], label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    ax_acc.plot(epochs, [100 * p["train_acc"] for p in curve], label="train (augmented, running)")
    ax_acc.plot(epochs, [100 * p["test_acc"] for p in curve], label="test")
    ax_acc.axhline(99.0, color="grey", lw=0.8, ls="--")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy", ylim=(95, 100))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def library_versions() -> dict[str, str]:
    import torchvision

    return {"python": platform.python_version(), "torch": torch.__version__, "torchvision": torchvision.__version__,
            "numpy": np.__version__}


def _numbers(text: str) -> tuple[int, ...]:
    try:
        values = tuple(sorted({int(v) for v in text.split(",") if v.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, got {text!r}") from None
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected numbers of 0 or more, got {text!r}")
    return values


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data/mnist",
                   help="folder with the four MNIST *-ubyte.gz files or torchvision's MNIST/raw layout; downloaded "
                        "there when missing (default: ../shared/data/mnist)")
    p.add_argument("--cache-dir", default=str(DEFAULT_CACHE),
                   help=f"where .gz files are decompressed once (default: {DEFAULT_CACHE})")
    p.add_argument("--arch", choices=["cnn", "mlp"], default="cnn", help="network to train (default: cnn)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="full",
                   help="'full' for the shipped model, 'fast' for a small CNN at >= 99%% in under a minute "
                        "(default: full)")
    p.add_argument("--epochs", type=int, help="passes over the training set (default: 20, or 2 with --preset fast)")
    p.add_argument("--batch-size", type=int, help="images per step (default: 128)")
    p.add_argument("--lr", type=float, help="peak learning rate of the one-cycle schedule (default: 3e-3; fast 4e-3)")
    p.add_argument("--weight-decay", type=float, default=5e-4, help="AdamW weight decay (default: 5e-4)")
    p.add_argument("--label-smoothing", type=float, default=0.05, help="cross-entropy label smoothing (default: 0.05)")
    p.add_argument("--augment", type=float, help="augmentation strength, 0 turns it off (default: 1.0; fast 0.5)")
    p.add_argument("--seed", type=int, default=0, help="random seed; a CPU run is reproducible for a given seed and "
                                                       "thread count (default: 0)")
    p.add_argument("--limit", type=int, default=0, help="train on only the first N training images, for quick runs "
                                                        "(default: 0 = all 60,000)")
    p.add_argument("--evals-per-epoch", type=int, default=4, help="test-set evaluations per epoch (default: 4)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: 0 = one per core)")
    p.add_argument("--out-dir", default=str(WEIGHTS_DIR), help=f"output folder (default: {WEIGHTS_DIR})")
    p.add_argument("--name", help="output file stem (default: the arch, e.g. cnn -> cnn.safetensors; fast: cnn_fast)")
    p.add_argument("--quiet", action="store_true", help="no progress bar (default: off)")
    p.add_argument("--snapshots", action=argparse.BooleanOptionalAction, default=True,
                   help="save snapshots of the weights during training to <name>_snapshots.safetensors, for the "
                        "Watch it learn tab (default: on)")
    p.add_argument("--snapshot-steps", type=_numbers, default=DEFAULT_STEPS,
                   help="optimizer steps after which to take a snapshot, 0 = before the first (default: "
                        f"{','.join(map(str, DEFAULT_STEPS))})")
    p.add_argument("--snapshot-epochs", type=_numbers, default=DEFAULT_EPOCHS,
                   help=f"epochs at whose end to take a snapshot (default: {','.join(map(str, DEFAULT_EPOCHS))})")
    args = p.parse_args(argv)
    preset = PRESETS[args.preset]
    args.model = preset.get("arch", args.arch) if args.arch == "cnn" else args.arch
    for key, default in (("epochs", 20), ("batch_size", 128), ("lr", 3e-3), ("augment", 1.0)):
        if getattr(args, key) is None:
            setattr(args, key, preset.get(key, default))
    if args.arch == "mlp" and args.name is None:
        args.name = "mlp"
    args.name = args.name or preset.get("name", args.arch)
    if args.epochs < 1 or args.batch_size < 1 or args.evals_per_epoch < 1:
        p.error("--epochs, --batch-size and --evals-per-epoch must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(args.seed)

    try:
        mnist = load_mnist(args.data_dir, args.cache_dir)
    except MnistNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    train_images, train_labels = mnist.train_images, mnist.train_labels
    if args.limit:
        train_images, train_labels = train_images[:args.limit], train_labels[:args.limit]
    start = time.perf_counter()
    data = {"train_images": train_images, "train_labels": train_labels,
            "test_images": mnist.test_images, "test_labels": mnist.test_labels,
            "skeletons": skeletons(train_images) if args.augment > 0 else None}

    config = default_config(args.model)
    model = build_model(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(train_images) / args.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                                                    steps_per_epoch=steps_per_epoch, pct_start=0.2)
    print(f"training {args.model} ({count_parameters(model):,} parameters) on {len(train_images):,} images for "
          f"{args.epochs} epochs, {torch.get_num_threads()} threads", file=sys.stderr)
    recorder = None
    if args.snapshots:
        recorder = SnapshotRecorder(config, steps_per_epoch,
                                    lambda m: evaluate(m, mnist.test_images, mnist.test_labels)[:2],
                                    args.snapshot_steps, args.snapshot_epochs)
        recorder.after_step(model, 0)
    log: dict[str, Any] = {"start": start, "train_seconds": 0.0, "curve": [], "reached_99": None,
                           "snapshots": recorder}
    for epoch in range(1, args.epochs + 1):
        train_one_epoch(model, data, optimizer, scheduler, args, generator, log, epoch)
    wall = time.perf_counter() - start

    model.eval()
    shipped = fold_batchnorm(model) if config.get("batchnorm") else model
    shipped_config = inference_config(config)
    acc, test_loss, pred = evaluate(shipped, mnist.test_images, mnist.test_labels)
    per_class, confusion = per_class_report(pred, mnist.test_labels)
    report = {
        "arch": args.model, "name": args.name, "preset": args.preset, "parameters": count_parameters(shipped),
        "test_accuracy": round(acc, 4), "test_loss": round(test_loss, 4),
        "per_class_accuracy": per_class, "confusion_matrix": confusion,
        "epochs": args.epochs, "seed": args.seed, "batch_size": args.batch_size, "lr": args.lr,
        "weight_decay": args.weight_decay, "label_smoothing": args.label_smoothing, "augment": args.augment,
        "train_images": len(train_images), "threads": torch.get_num_threads(),
        "train_seconds": round(log["train_seconds"], 1), "wall_seconds": round(wall, 1),
        "reached_99_percent": log["reached_99"], "curve": log["curve"],
        "command": "python train.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "versions": library_versions(), "data_sha256": mnist.sha256,
    }
    out = Path(args.out_dir)
    path = save_checkpoint(shipped, shipped_config, out / f"{args.name}.safetensors", report)
    if recorder is not None:
        recorder.save(out / f"{args.name}_snapshots.safetensors", path, log["curve"])
    plot_curves(log["curve"], out / f"{args.name}_curves.png",
                f"{args.name}: {100 * acc:.2f}% test accuracy, {args.epochs} epochs")
    reached = log["reached_99"]
    print(json.dumps({"weights": str(path), "test_accuracy": report["test_accuracy"],
                      "train_seconds": report["train_seconds"], "wall_seconds": report["wall_seconds"],
                      "reached_99_percent": reached, "per_class_accuracy": per_class}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
