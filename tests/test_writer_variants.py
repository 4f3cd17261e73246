"""MNIST as other writers and collections give it (bench/writer_variants.py): the strokes other traditions add, coarse
grids and widened digits, and variant sets that are reproducible, keep their labels and are all readable by the
app."""

from __future__ import annotations

import numpy as np
import pytest

from bench.drawn_digits import traced_strokes
from bench.writer_variants import (
    on_grid,
    rescanned_mnist,
    restyle,
    restyled_mnist,
    restyled_rescanned_mnist,
    widened,
)
from demo.core.preprocess import preprocess

SEEDS = range(24)
ADDED = {1: {"flag", "foot"}, 7: {"bar", "hook"}, 9: {"tail"}, 2: {"loop"}}


@pytest.fixture(scope="module")
def traced(mnist_test):
    """label -> the strokes (pen 0.1) of the first MNIST test digit with that label."""
    images, labels = mnist_test
    return {d: traced_strokes(images[np.flatnonzero(labels == d)[0]])(0.1) for d in (1, 2, 5, 7, 9)}


@pytest.fixture(scope="module")
def six(mnist_test):
    images, labels = mnist_test
    return images[:6], labels[:6]


def tall_bar() -> np.ndarray:
    ink = np.zeros((28, 28), np.float32)
    ink[4:24, 12:16] = 1  # 20 px tall, 4 px wide
    return ink


def ell() -> np.ndarray:
    """An L: a stem with a foot to the right, so a stretched grid has ink on each edge only where the shape does."""
    ink = np.zeros((28, 28), np.float32)
    ink[4:24, 8:11] = 1
    ink[21:24, 8:20] = 1
    return ink


def restyled(strokes, label: int) -> list[tuple[list, str]]:
    """restyle() over SEEDS: (added strokes, kind) for each seed, checking each added stroke has its name."""
    before = [list(s) for s in strokes]
    out = [restyle(strokes, label, np.random.default_rng(seed)) for seed in SEEDS]
    assert [list(s) for s in strokes] == before  # the digit's own strokes are left as they were
    for extra, kind in out:
        names = kind.split("+") if kind else []
        assert len(names) == len(extra), (kind, len(extra))
        assert set(names) <= ADDED.get(label, set()), kind
    return out


def check_flag_and_foot(strokes) -> None:
    pts = np.array([p for s in strokes for p in s])
    top, ymax = pts[pts[:, 1].argmin()], pts[:, 1].max()
    out = restyled(strokes, 1)
    kinds = {name for _, kind in out for name in kind.split("+") if name}
    assert kinds == {"flag", "foot"}
    for extra, kind in out:
        for stroke, name in zip(extra, kind.split("+") if kind else [], strict=True):
            s = np.array(stroke)
            if name == "flag":  # from the top, down to the left
                assert np.allclose(s[0], top) and s[-1][0] < s[0][0] and s[-1][1] > s[0][1]
            else:  # the foot: level with the bottom
                assert np.allclose(s[:, 1], ymax) and s[1][0] > s[0][0]


def test_a_traced_mnist_one_gets_a_flag_and_a_foot(traced):
    check_flag_and_foot(traced[1])


def test_a_bare_vertical_bar_gets_a_flag_and_a_foot():
    check_flag_and_foot([[(14.0, float(y)) for y in range(4, 25)]])


@pytest.mark.parametrize(("label", "name"), [(7, "bar"), (9, "tail"), (2, "loop")])
def test_sevens_nines_and_twos_get_their_strokes(traced, label, name):
    out = restyled(traced[label], label)
    assert any(name in kind.split("+") for _, kind in out)
    assert any(kind == "" and extra == [] for extra, kind in out)  # not every writer adds them


def test_a_five_gets_nothing(traced):
    assert all(extra == [] and kind == "" for extra, kind in restyled(traced[5], 5))


@pytest.mark.parametrize("side", [12, 16, 23])
@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("stretch", [True, False])
def test_on_grid_stores_the_ink_on_a_coarse_grid_scanned_tenfold(side, binary, stretch):
    scan = on_grid(ell(), side, stretch, binary)
    assert scan.shape == (side * 10 + 40, side * 10 + 40)
    assert not scan[:20].any() and not scan[-20:].any() and not scan[:, :20].any() and not scan[:, -20:].any()
    grid = scan[20:-20, 20:-20]  # inside the blank two-cell margin
    assert grid.min() >= 0 and grid.max() <= 1 and grid.max() > 0.9
    cells = grid[::10, ::10]
    assert np.array_equal(grid, np.kron(cells, np.ones((10, 10), np.float32)))  # each cell a 10×10 block
    if binary:
        assert set(np.unique(grid)) <= {0.0, 1.0}
    if stretch:  # stretched to fill the square: the ink reaches every edge
        assert cells[0].any() and cells[-1].any() and cells[:, 0].any() and cells[:, -1].any()


@pytest.mark.parametrize("binary", [True, False])
def test_a_fitted_grid_keeps_a_tall_bar_tall(binary):
    grid = on_grid(tall_bar(), 16, stretch=False, binary=binary)
    ys, xs = np.nonzero(grid > 0.5)
    height, width = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    assert width < height / 3, (width, height)
    stretched = on_grid(tall_bar(), 16, stretch=True, binary=binary)
    assert (stretched[20:-20, 20:-20] > 0.5).all()  # a full bar stretched fills the grid
    assert not stretched[:20].any()  # and the margin around it stays paper, so the app reads the ink as ink
    assert not preprocess(stretched).empty


def test_widened_makes_a_tall_bar_square_or_keeps_it():
    square = widened(tall_bar(), 1.0)  # with a blank margin of 2 pixels (× upscale) all round
    assert abs(square.shape[1] - square.shape[0]) <= 1 and square.shape[0] == 24
    ys, xs = np.nonzero(square > 0.5)
    assert abs((xs.max() - xs.min()) - (ys.max() - ys.min())) <= 1
    assert widened(tall_bar(), 0.0).shape == (24, 8)
    assert widened(tall_bar(), 0.5).shape == (24, 16)
    assert widened(tall_bar(), 1.0, upscale=6).shape == (144, 144)
    assert not widened(tall_bar(), 1.0)[:2].any()


VARIANTS = [restyled_mnist, rescanned_mnist, restyled_rescanned_mnist]


@pytest.mark.parametrize("make", VARIANTS, ids=lambda f: f.__name__)
def test_variants_are_reproducible_keep_their_labels_and_are_readable(six, make):
    images, labels = six
    a, b, c = (list(make(images, labels, seed=s)) for s in (5, 5, 6))
    assert [v.label for v in a] == [v.label for v in c] == labels.tolist()
    assert [v.kind for v in a] == [v.kind for v in b]
    assert all(np.array_equal(np.asarray(x.image), np.asarray(y.image)) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(np.asarray(x.image), np.asarray(z.image)) for x, z in zip(a, c, strict=True))
    for v in a + c:
        assert not preprocess(v.image).empty, (v.label, v.kind)
        added = {name for name in v.kind.split(" ")[0].split("+") if name in {"flag", "foot", "bar", "hook",
                                                                              "tail", "loop"}}
        assert added <= ADDED.get(v.label, set()), (v.label, v.kind)
