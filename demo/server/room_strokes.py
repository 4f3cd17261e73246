"""Simplifying a sent drawing's strokes before the class room stores them (demo/server/room.py).

A phone sends one point per touch event, so a pupil's digit can reach the room with hundreds or (within the pad's
limits, demo/core/strokes.py) thousands of points, and the teacher's page downloads every stored drawing.
Ramer–Douglas–Peucker keeps a subset of each stroke's points such that no dropped point lies farther than a
tolerance from the kept polyline: at half a pixel of the 280-pixel pad, a thumbnail (84 px) and the teacher's pad
draw the same picture with the pen's width around it. A cap on the points kept per drawing bounds what one send
can cost the room; a drawing over it is simplified again with the tolerance doubled until it fits.

Measured on the project's 21 example digits (``demo.page.pad.pad_examples()``): as shipped, a few hand-placed points
per stroke, they keep 21.2 of 23.0 points per drawing; resampled as a phone's touch events give them (a point every
2 px, a 0.3 px tremor, rounded to 0.1 px) they keep 54.2 of 175.3 (31 %); at a point every 0.5 px, 102.7 of
699.3 (15 %); every dropped point within 0.5 px of the kept polyline. The command: ``python -m bench.room_strokes``.
The slowest inputs tried within the pad's limits (20,000 points: a random walk, a circle drawn 200 times, zigzags)
took under 0.2 s each.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PAD_SIDE = 280.0  # the pad's default canvas (demo/views/theme.py: PAD_SIZE); tolerances scale with the canvas
TOLERANCE_PX = 0.5  # at PAD_SIDE: half a pixel, well under any pen width (at least 0.5 px, usually 20)
MAX_STORED_POINTS = 1_000  # per drawing; the pad allows 400 strokes, whose 2 end points each always fit


def _rdp(points: np.ndarray, tolerance: float, budget: int) -> np.ndarray | None:
    """Indices of the points RDP keeps at ``tolerance`` (sorted), or None once more than ``budget`` are kept:
    the caller then tries a larger tolerance, so a stroke made to split badly costs ``budget`` splits, not n."""
    n = len(points)
    if n <= 2:
        return np.arange(n)
    keep = np.zeros(n, dtype=bool)
    keep[[0, n - 1]] = True
    kept, pending = 2, [(0, n - 1)]
    while pending:
        first, last = pending.pop()
        if last - first < 2:
            continue
        a, chord = points[first], points[last] - points[first]
        offset = points[first + 1:last] - a
        # Distance to the segment from a to b, not to the line through them: a pen going back over its own line
        # (a 1 drawn down and up again) lies on that line but beyond the segment, and must keep its turning point.
        along = np.clip(offset @ chord / max(float(chord @ chord), 1e-12), 0.0, 1.0)
        dist = np.hypot(*(offset - along[:, None] * chord).T)
        far = int(np.argmax(dist))
        if dist[far] <= tolerance:
            continue
        inner = len(dist)
        if inner > 64 and not inner // 8 <= far < inner - inner // 8:
            # The farthest point next to an end would leave one part nearly as long as the whole, and a stroke
            # built for that (a zigzag) would cost a pass over the stroke per point kept. Any point beyond the
            # tolerance is a valid split, so one from the middle, when there is one, keeps the parts shrinking.
            middle = inner // 8 + int(np.argmax(dist[inner // 8:inner - inner // 8]))
            if dist[middle] > tolerance:
                far = middle
        split = first + 1 + far
        keep[split] = True
        kept += 1
        if kept > budget:
            return None
        pending += [(first, split), (split, last)]
    return np.flatnonzero(keep)


def simplify_strokes(strokes: list[list[list[float]]], tolerance: float,
                     max_points: int = MAX_STORED_POINTS) -> tuple[list[list[list[float]]], float]:
    """Each stroke reduced to a subset of its points within ``tolerance`` of the original polyline, with at most
    ``max_points`` in all (or two per stroke when there are more strokes than that allows); returns the strokes
    and the tolerance that was used (doubled from ``tolerance`` as often as the cap needed)."""
    arrays = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes]
    floor = sum(min(len(a), 2) for a in arrays)  # what any tolerance keeps: each stroke's ends
    budget = max(max_points, floor)
    tolerance = max(float(tolerance), 1e-9)
    while True:
        kept, total = [], 0
        for a in arrays:
            index = _rdp(a, tolerance, budget - total)
            if index is None:
                break
            kept.append(index)
            total += len(index)
        else:
            return [[strokes[i][j] for j in index.tolist()] for i, index in enumerate(kept)], tolerance
        tolerance *= 2  # terminates: past the canvas's diagonal every stroke is down to its two ends


def simplify_drawing(drawing: dict[str, Any]) -> dict[str, Any]:
    """The pad's drawing ``{"w", "h", "pen", "strokes"}`` with its strokes simplified for storing; the points kept
    are the drawing's own (a subset), so nothing is rounded or moved."""
    side = max(float(drawing.get("w", PAD_SIDE)), float(drawing.get("h", PAD_SIDE)))
    strokes, _ = simplify_strokes(drawing["strokes"], TOLERANCE_PX * side / PAD_SIDE)
    return {**drawing, "strokes": strokes}


def polyline_distance(points: np.ndarray, polyline: np.ndarray) -> np.ndarray:
    """Each point's distance to the nearest segment of ``polyline`` (for checking a simplification)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    polyline = np.asarray(polyline, dtype=np.float64).reshape(-1, 2)
    if len(polyline) == 1:
        return np.hypot(*(points - polyline[0]).T)
    a, b = polyline[:-1], polyline[1:]
    ab = b - a
    ap = points[:, None, :] - a[None, :, :]
    t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    return np.hypot(*(points[:, None, :] - nearest).transpose(2, 0, 1)).min(axis=1)
