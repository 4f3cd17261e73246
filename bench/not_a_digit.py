"""How well the digit score (demo/core/digitness.py) tells non-digits from digits, on sets it was not fitted on.

    python -m bench.not_a_digit --data-dir ../shared/data/mnist [--limit 3000] [--per-family 150] [--seed 3000]

Held-out sets (nothing here was used by tools/fit_digitness.py, which saw MNIST *training* digits only):

* non-digits: bench/non_digits.py, ``--per-family`` drawings of every family with ``--seed`` (3000 by default; the
  method was chosen looking at seed 2000, so this seed was never looked at while choosing). Catch rate = share
  flagged; ``digit_like_letters`` (O, l, S, Z, b, q...) are reported apart and not counted;
* canvas-style drawn digits: MNIST *test* digits 0..limit re-drawn as pen strokes (bench/drawn_digits.py, seed 0,
  all encodings and canvases);
* pad path: MNIST test digits re-drawn on the pad's 280×280 canvas and classified with the pen width given, as the
  pad's drawings are;
* **other hands**: digits by writers outside MNIST, made differently from anything the score was fitted on (it saw
  MNIST training digits only, some restyled by bench/writer_variants.py):

  - hand-traced styles (bench/hand_styles.py: 71 ways people write the ten digits, a 1 with a flag and a foot, a
    crossed 7, a 9 with a curled tail ..., each drawn ``--per-style`` times by random hands and pens on the pad);
  - held-out typefaces (bench/font_digits.py: every installed font but DejaVu and Liberation, handwriting-like
    ones included, traced and re-drawn by random hands);
  - both again stored the way some digit collections are: stretched to fill a 16×16 black-and-white grid
    (bench/writer_variants.on_grid), and MNIST test digits stored that way;

  reported one by one and pooled (the four "other hands" sets), with the pooled rate per digit;
* older proxies: the project's own stroke examples (bench/drawn_digits.example_drawings: 20 styles under random
  affine jitter and pens) and MNIST test digits 5000.. re-drawn by a "different hand" (random rotation ±12°, shear,
  aspect, pen 0.04-0.22 of the height);
* MNIST test digits as stored, through ``clf.predict`` (the app's preprocessing).

Baselines get thresholds that flag the same share of the drawn test digits as the digit score does (matched
false-flag rate), so the catch rates compare directly: max softmax probability, the negative
energy (logsumexp of the logits; Liu et al.'s E is its negative),
1-NN cosine similarity of relu4 to 10,000 MNIST training digits, and the relu4 Mahalanobis term alone.
Finally the extra time per prediction: ``digitness.score`` against ``clf.predict`` on the same drawings.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import torch

from bench.drawn_digits import _draw as draw_digit
from bench.drawn_digits import _place, example_drawings, redrawn_mnist, traced_strokes
from bench.font_digits import font_digits, held_out_fonts
from bench.hand_styles import hand_style_digits
from bench.non_digits import FAMILIES, non_digits
from bench.writer_variants import on_grid
from demo import load_classifier
from demo.core.data import load_mnist
from demo.core.digitness import load_digitness, stage_features
from demo.core.model import staged_forward
from demo.core.preprocess import to_ink
from demo.core.strokes import rasterize

AMBIGUOUS = "digit_like_letters"
OTHER_HANDS = ("other hands: hand-traced styles", "other hands: typefaces", "other hands: styles on a 16×16 grid",
               "other hands: typefaces on a 16×16 grid")


def pad_digits(images: np.ndarray, seed: int) -> Iterable[tuple[np.ndarray, float]]:
    """MNIST digits re-drawn on a 280×280 pad with a pen of 0.04-0.22 of the digit height; yields (ink, pen)."""
    rng = np.random.default_rng(seed)
    for image in images:
        pen_ratio = float(rng.uniform(0.04, 0.22))
        placed, height = _place(traced_strokes(image)(pen_ratio), (280, 280), rng, False, pen_ratio)
        pen = max(1.5, pen_ratio * height)
        yield rasterize(placed, 280, 280, pen), pen


class Scorer:
    """Scores of every method for one drawing at a time, kept as columns."""

    def __init__(self, clf, dn, knn_ref: np.ndarray) -> None:
        self.clf, self.dn, self.knn_ref = clf, dn, knn_ref

    def run(self, items: Iterable[tuple[object, float | None]]) -> dict[str, np.ndarray]:
        cols: dict[str, list[float]] = defaultdict(list)
        for image, pen, *label in items:
            pred = self.clf.predict(image, pen)
            if pred.empty:  # not scored: the app says "empty"
                cols["empty"].append(1.0)
                continue
            cols["empty"].append(0.0)
            cols["label"].append(label[0] if label else -1)
            cols["read right"].append(float(bool(label) and pred.label == label[0]))
            feats = stage_features(pred.activations, self.dn.stages)
            terms = self.dn.terms(feats)
            cols["digit score"].append(float(sum(terms.values())))
            cols["relu4 Mahalanobis"].append(float(terms["relu4"]))
            cols["max softmax"].append(max(pred.probs))
            logits = feats["relu4"] @ self.dn.fc2_weight.T + self.dn.fc2_bias
            cols["energy"].append(float(np.log(np.exp(logits - logits.max()).sum()) + logits.max()))
            r = feats["relu4"] / max(np.linalg.norm(feats["relu4"]), 1e-9)
            cols["kNN cosine"].append(float((self.knn_ref @ r).max()))
        return {k: np.array(v) for k, v in cols.items()}


METHODS = ("digit score", "max softmax", "energy", "kNN cosine", "relu4 Mahalanobis")


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.not_a_digit", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data/mnist")
    p.add_argument("--limit", type=int, default=3000, help="MNIST test digits per digit set (default 3000)")
    p.add_argument("--per-family", type=int, default=150, help="non-digits per family (default 150)")
    p.add_argument("--seed", type=int, default=3000, help="non-digit seed (default 3000: never used in development)")
    p.add_argument("--per-style", type=int, default=20, help="drawings per hand-traced style (default 20)")
    p.add_argument("--per-glyph", type=int, default=2, help="drawings per typeface digit (default 2)")
    p.add_argument("--digitness", default=None, help="default: weights/digitness.safetensors")
    p.add_argument("--timing-runs", type=int, default=7)
    args = p.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    clf = load_classifier()
    dn = load_digitness(args.digitness)
    mnist = load_mnist(args.data_dir)
    with torch.inference_mode():  # kNN baseline reference: relu4 of 10,000 MNIST training digits, unit length
        _, out = staged_forward(clf.model, mnist.train_images[:10000].float()[:, None] / 255)
    ref = out["relu4"].numpy().astype(np.float64)
    scorer = Scorer(clf, dn, ref / np.linalg.norm(ref, axis=1, keepdims=True).clip(1e-9))

    n = args.limit
    test_x, test_y = mnist.test_images.numpy(), mnist.test_labels.numpy()
    nd = list(non_digits(args.per_family, args.seed))
    rng = np.random.default_rng(7)
    jitter_idx = np.arange(5000, min(10000, 5000 + n))
    sets = {
        "drawn test digits": scorer.run((d.image, None) for d in redrawn_mnist(test_x[:n], test_y[:n], seed=0)),
        "pad path (pen given)": scorer.run(pad_digits(test_x[:n], seed=5)),
        "other hands (jitter)": scorer.run(
            (draw_digit(traced_strokes(x), int(y), rng, jitter=True).image, None)
            for x, y in zip(test_x[jitter_idx], test_y[jitter_idx], strict=True)),
        "project example strokes": scorer.run((d.image, None) for d in example_drawings(20, seed=0)),
        "MNIST test (preprocessed)": scorer.run((x, None) for x in test_x[:n]),
        "MNIST test on a 16×16 grid": scorer.run((on_grid(x.astype(np.float32) / 255), None) for x in test_x[:n]),
    }
    styles = list(hand_style_digits(args.per_style, seed=30))
    typefaces = list(font_digits(held_out_fonts(), args.per_glyph, seed=31))
    sets[OTHER_HANDS[0]] = scorer.run((d.image, d.pen, d.label) for d in styles)
    sets[OTHER_HANDS[1]] = scorer.run((d.image, None, d.label) for d in typefaces)
    sets[OTHER_HANDS[2]] = scorer.run((on_grid(d.image), None, d.label) for d in styles)
    sets[OTHER_HANDS[3]] = scorer.run((on_grid(to_ink(d.image)), None, d.label) for d in typefaces)
    nd_scores = scorer.run((d.image, None) for d in nd)
    scored = [d for d, empty in zip(nd, nd_scores["empty"], strict=True) if not empty]
    families, kinds = np.array([d.family for d in scored]), np.array([d.kind for d in scored])
    print(f"scored {sum(len(s['empty']) for s in sets.values())} digits and {len(nd)} non-digit drawings "
          f"({int(nd_scores['empty'].sum())} non-digits empty) in {time.perf_counter() - start:.0f} s; "
          f"threshold {dn.threshold:.3f} from {dn.info.get('classifier', '?')}\n")

    # --- the digit score at its stored threshold
    t = dn.threshold
    is_nd = families != AMBIGUOUS
    flagged = nd_scores["digit score"] < t
    print(f"DIGIT SCORE at its threshold ({t:.3f}):")
    print(f"  non-digits caught: {flagged[is_nd].mean():.1%} of {is_nd.sum()} (all families but {AMBIGUOUS})")
    for name, s in sets.items():
        print(f"  false flags, {name:44s}: {np.mean(s['digit score'] < t):.2%} of {len(s['digit score'])}"
              f" ({int(s['empty'].sum())} empty)")
    print(f"  {AMBIGUOUS} flagged (not counted): {flagged[~is_nd].mean():.1%}")
    pooled = {k: np.concatenate([sets[name][k] for name in OTHER_HANDS])
              for k in ("digit score", "label", "read right")}
    hands_flagged = pooled["digit score"] < t
    print(f"  OTHER HANDS pooled ({len(hands_flagged)} digits, {len(held_out_fonts())} typefaces, "
          f"read right {pooled['read right'].mean():.1%}): {hands_flagged.mean():.2%} flagged; per digit: "
          + " ".join(f"{c}: {hands_flagged[pooled['label'] == c].mean():.1%}" for c in range(10)))
    style_names = [d.style for d in styles]
    by_style = defaultdict(list)
    for name, f in zip(style_names, sets[OTHER_HANDS[0]]["digit score"] < t, strict=True):
        by_style[name].append(f)
    worst = sorted(((np.mean(v), k) for k, v in by_style.items()), reverse=True)[:8]
    print("  hand-traced styles flagged most: " + ", ".join(f"{k} {r:.0%}" for r, k in worst))

    # --- per family, with the baselines at the digit score's false-flag rate on the drawn test digits
    rate = float(np.mean(sets["drawn test digits"]["digit score"] < t))
    thresholds = {m: float(np.quantile(sets["drawn test digits"][m], rate)) if m != "digit score" else t
                  for m in METHODS}
    print(f"\nCATCH RATE per family, every method at {rate:.2%} false flags on the drawn test digits "
          "(baselines' thresholds matched on that set):")
    print(f"  {'family':29s} {'group':21s} " + " ".join(f"{m:>17s}" for m in METHODS))
    for fam in FAMILIES:
        sel = families == fam
        if not sel.any():
            continue
        cells = " ".join(f"{np.mean(nd_scores[m][sel] < thresholds[m]):17.1%}" for m in METHODS)
        print(f"  {fam:29s} {FAMILIES[fam][0]:21s} {cells}")
    print(f"  {'ALL non-digits':51s} " + " ".join(f"{np.mean(nd_scores[m][is_nd] < thresholds[m]):17.1%}"
                                                  for m in METHODS))
    for name, s in sets.items():
        print(f"  {'flags: ' + name:51s} " + " ".join(f"{np.mean(s[m] < thresholds[m]):17.2%}" for m in METHODS))

    # --- letters one by one (which letters slip through)
    letters = np.isin(families, ["letters", "font_letters", AMBIGUOUS])
    by_kind = defaultdict(list)
    for k, f in zip(kinds[letters], flagged[letters], strict=True):
        by_kind[k.split(" ")[0]].append(f)
    print("\nletters caught by the digit score (stroke + font):",
          ", ".join(f"{k} {np.mean(v):.0%}" for k, v in sorted(by_kind.items())))

    # --- time per prediction
    images = [d.image for d in nd[::max(1, len(nd) // 100)]][:100]
    predict_t, score_t = [], []
    for _ in range(args.timing_runs):
        t0 = time.perf_counter()
        preds = [clf.predict(im) for im in images]
        t1 = time.perf_counter()
        for pr in preds:
            dn.score(pr.activations)
        t2 = time.perf_counter()
        predict_t.append((t1 - t0) / len(images))
        score_t.append((t2 - t1) / len(images))
    pm, sm = float(np.median(predict_t)), float(np.median(score_t))
    print(f"\ntime per prediction (median of {args.timing_runs} runs over {len(images)} drawings, "
          f"{torch.get_num_threads()} torch thread): predict {pm * 1e3:.2f} ms, digit score {sm * 1e3:.3f} ms "
          f"(+{sm / pm:.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
