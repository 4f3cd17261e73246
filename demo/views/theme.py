"""Visual constants in one place: colour scales, tile layout, pad defaults, page colours.

The style sheets in ``demo/page/static/`` hold no colour of their own: they use the CSS custom properties that
:func:`css_variables` writes from :data:`PAGE_COLOURS` (``var(--cs-accent)`` ...), so a colour is changed here once.
"""

from __future__ import annotations

# Colour scale for activations (>= 0 after ReLU / pooling): black = 0, through purple and orange, to pale yellow =
# the strongest response in that layer. Anchors of matplotlib's "inferno", interpolated in demo/views/render.py.
ACTIVATION_ANCHORS = [
    (0.00, (0, 0, 4)), (0.15, (31, 12, 72)), (0.30, (85, 15, 109)), (0.45, (136, 34, 106)),
    (0.60, (186, 54, 85)), (0.75, (227, 89, 51)), (0.88, (249, 140, 10)), (1.00, (252, 255, 164)),
]
# Colour scale for signed values (kernels, conv outputs before ReLU): blue = negative, white = 0, red = positive.
SIGNED_ANCHORS = [(0.0, (33, 102, 172)), (0.25, (103, 169, 207)), (0.5, (247, 247, 247)),
                  (0.75, (239, 138, 98)), (1.0, (178, 24, 43))]
# The 28×28 model input and preprocessing steps: plain grey scale, white ink on black, as MNIST stores it.
INPUT_ANCHORS = [(0.0, (0, 0, 0)), (1.0, (255, 255, 255))]

TILE_GAP = 1  # pixels between tiles in a layer's picture (drawn in GAP_COLOUR)
GAP_COLOUR = (90, 90, 90)
TILE_COLUMNS = 8  # maps per row in a layer's picture
# The network overview (demo/views/overview.py) rides in every live update, so it is small: the most active maps of each
# layer only, drawn with a short colour scale.
OVERVIEW_MAPS = 6  # maps per layer in the overview
OVERVIEW_COLUMNS = 3  # of them per row
OVERVIEW_LEVELS = 24  # colours along a scale in the overview's pictures
OVERVIEW_PICTURE_PX = 84  # a stage's picture in the overview is drawn about this wide (CSS may zoom the whole)

# The drawing pad: internal canvas size (pixels), and the pen in those pixels.
PAD_SIZE = 280
PEN_DEFAULT = 20
PEN_MIN, PEN_MAX = 4, 48
SEND_INTERVAL_MS = 60  # while the pen moves, at most one update per interval
# ... and the network overview (demo/views/overview.py) with at most one every OVERVIEW_INTERVAL_MS, never with two in
# a row: the answer and the probabilities follow the pen at full rate, the overview's pictures (the costliest
# view to make) a little behind, which keeps the cost of a class's updates down.
OVERVIEW_INTERVAL_MS = 180

ACCENT = "#f97316"  # the predicted class
BAR = "#64748b"  # the other classes

# Saliency overlays: the digit in grey, dimmed, under the heat colour.
HEAT_COLOUR = (255, 64, 32)
HEAT_ALPHA = 0.85
HEAT_DIM = 0.45
# The overlay's legend: no heat (the background) to full heat, as the overlay draws them over black.
HEAT_ANCHORS = [(0.0, (0, 0, 0)), (1.0, tuple(round(c * HEAT_ALPHA) for c in HEAT_COLOUR))]
# The two networks in comparisons.
CNN_COLOUR = "#f97316"
MLP_COLOUR = "#3b82f6"
# The highlighted window / cell in the pooling and one-value lessons.
HIGHLIGHT = "#22d3ee"
# Zero padding is hatched in two neutral greys: no colour of the signed scale (blue-white-red) or of the input's
# black-to-white scale can be mistaken for it, whatever the picture around it.
PADDING_HATCH = ((92, 92, 92), (150, 150, 150))
MISTAKE_RGB = (239, 68, 68)  # off-diagonal cells of a confusion matrix, shaded by count

# The drawing pad: white ink on black paper, as MNIST stores digits (what the model sees looks like what was drawn).
PAD_PAPER = "#000000"
PAD_INK = "#ffffff"

# Page colours, used by demo/page/static/*.css as var(--cs-<name>).
PAGE_COLOURS = {
    "accent": ACCENT,  # the answer: its frame, digit and bar, the model input's frame, conv rows in tables
    # Text in the accent's and the MLP's colours: darker on the light page so it reads at 4.5:1 (WCAG AA); the dark
    # page (classroom.css) uses the bright colours themselves.
    "accent-text": "#c2410c",
    "mlp-text": "#1d4ed8",
    "broken-text": "#b91c1c",  # Break it's damaged network, named in its warning red
    # Gradio's own subdued grey (slider ends, its footer) and primary button, darkened to 4.5:1 in both themes
    "subdued-text": "#5f6170",
    "primary": "#c2410c",
    "primary-hover": "#9a3412",
    "on-primary": "#ffffff",
    "focus": "#1d4ed8",  # the keyboard focus ring: 6.7:1 on the light page (WCAG 1.4.11 asks 3:1)
    "bar": BAR,  # the other classes' bars, legend frames
    "highlight": HIGHLIGHT,  # the window / cell a lesson points at
    "muted": "#94a3b8",  # dashed placeholders, number tables, button borders
    "rule": "rgba(148, 163, 184, 0.5)",  # table rules, chart grid lines
    "track": "rgba(148, 163, 184, 0.25)",  # the empty part of a probability bar
    "frame": "#475569",  # frames around pictures and the pad
    "picture-bg": PAD_PAPER,  # behind the model's pictures (they are white on black)
    "on-accent": "#000000",  # text on the accent and highlight colours
    "button": "#f1f5f9",
    "button-hover": "#e2e8f0",
    "button-text": "#0f172a",
    "example-button": "#ffffff",
    "warning-bg": "#fef3c7",
    "warning-text": "#78350f",
    "warning-border": "#f59e0b",
    "check": "#15803d",  # "equals the model's own value"
    "padding-a": "rgb(92, 92, 92)",  # zero padding in number tables, hatched like PADDING_HATCH in pictures
    "padding-b": "rgb(150, 150, 150)",
    "correct-cell": "rgba(34, 197, 94, 0.25)",  # the confusion matrix's diagonal
    # Classroom mode's dark, high-contrast theme for projectors.
    "projector-bg": "#000000",
    "projector-text": "#ffffff",
    "projector-accent": "#ffb000",  # the answer: orange washes out on many projectors, amber does not
    "frozen": "#38bdf8",  # the pad's frame while the drawing is frozen
    "pressed": "#0369a1",  # a toggle button that is on
    "panel-bg": "#ffffff",  # the inspector's panel over the page
    "panel-text": "#0f172a",
    "shadow": "rgba(15, 23, 42, 0.35)",
    # The class room (demo/page/static/room.css).
    "mistake": "rgb(239, 68, 68)",  # a drawing the network read as another digit than the pupil meant
    "mistake-cell": "rgba(239, 68, 68, 0.3)",  # the tally's off-diagonal cells
    "qr-light": "#ffffff",  # behind the QR code: its quiet zone must stay light in the dark theme
}
# The class room's QR code: dark modules on light, as scanners expect, whatever the page's theme.
QR_DARK, QR_LIGHT = "#000000", "#ffffff"
# A pupil's drawing whose reading is below this confidence counts as unsure in the teacher's gallery, when the
# weights have no measured line of their own (weights/calibration.json: demo/teaching/calibration.py).
ROOM_UNSURE_BELOW = 0.7
ROOM_POLL_MS = 1000  # without the pushed events, the teacher's page asks for new drawings once a second


# On the dark page (Gradio's dark theme, the projector's default) text in the accent's, the MLP's and Break it's
# colours is written in the bright shades, which read at 4.5:1 on the dark background; the focus ring in a light blue.
DARK_PAGE_COLOURS = {"accent-text": "#fb923c", "mlp-text": "#60a5fa", "broken-text": "#f87171", "focus": "#93c5fd"}


def css_variables() -> str:
    """:data:`PAGE_COLOURS` as CSS custom properties on the page's root, and :data:`DARK_PAGE_COLOURS` on the dark
    page's body, for the style sheets in demo/page/static/."""
    light = " ".join(f"--cs-{name}: {value};" for name, value in PAGE_COLOURS.items())
    dark = " ".join(f"--cs-{name}: {value};" for name, value in DARK_PAGE_COLOURS.items())
    return f":root {{ {light} }} body.dark {{ {dark} }}"
