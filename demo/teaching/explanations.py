"""The short texts beside each teaching view, filled with the figures they state. HTML fragments (``Markup``).

The sentences are in the text catalogue (``demo/texts/en.toml``, section ``explain``); this module fills them with
the project's own data (the model, the weights' metadata, weights/robustness.json, weights/calibration.json), so a
text cannot drift from the model it describes, and formats the numbers the way the whole page does.
"""

from __future__ import annotations

from demo.core.model import MNIST_MEAN, MNIST_STD
from demo.core.preprocess import MNIST_BOX
from demo.texts import Later, localised, say

MINUS = "−"  # the typographic minus, in every number the page shows


def signed(value: float, digits: int = 2, plus: bool = False) -> str:
    """``value`` with ``digits`` decimals and a true minus sign (and a plus sign when ``plus``); a value that rounds to
    zero shows no sign of its own."""
    if round(value, digits) == 0:
        value = 0.0
    text = f"{value:+.{digits}f}" if plus else f"{value:.{digits}f}"
    return localised(text).replace("-", MINUS)


def percent(fraction: float, digits: int = 1) -> str:
    return localised(f"{100 * fraction:.{digits}f}") + " %"


BACKGROUND = (0 - MNIST_MEAN) / MNIST_STD  # the black background after the network's normalisation
INK = (1 - MNIST_MEAN) / MNIST_STD  # white ink after it

# Texts without arguments, made when used (Later), so each is in the language of the page that shows it.
IMAGE_AS_NUMBERS = Later(lambda: say("explain.image_as_numbers", box=MNIST_BOX, mean=localised(f"{MNIST_MEAN:g}"),
                                     std=localised(f"{MNIST_STD:g}"),
                                     background=signed(BACKGROUND), ink=signed(INK)))


def layers(first_kernel: int) -> str:
    """The big picture of a CNN; ``first_kernel`` is the side of conv1's kernels (from the model)."""
    return say("explain.layers", first_kernel=first_kernel)


CONVOLUTION = Later(lambda: say("explain.convolution"))
# Batch normalisation, named wherever the shipped weights are shown.
BATCH_NORM = Later(lambda: say("explain.batch_norm"))
LEARNED_KERNEL_NOTE = Later(lambda: say("explain.learned_kernel_note", background=signed(BACKGROUND),
                                        ink=signed(INK), batch_norm=BATCH_NORM))
POOLING = Later(lambda: say("explain.pooling"))
ONE_VALUE = Later(lambda: say("explain.one_value", batch_norm=BATCH_NORM))
CONV1_PADDING_NOTE = Later(lambda: say("explain.conv1_padding_note", background=signed(BACKGROUND)))


def _shift_figures(shift: dict[str, list[float]]) -> str:
    return say("explain.shift_figures", **{f"{net}_{way}_{px}": percent(shift[f"{net}_{way}"][i])
                                           for net in ("mlp", "cnn") for way in ("right", "down")
                                           for i, px in enumerate((3, 4, 5)) if net == "mlp" or px > 3})


def cnn_vs_mlp(shift: dict[str, list[float]] | None, errors: tuple[int, int] | None,
               parameters: tuple[int, int, int, int, int] | None, mlp_widths: list[int] | None,
               background: float | None = None) -> str:
    """The CNN-vs-MLP explanation with the project's own figures.

    ``shift``: accuracies at 3, 4 and 5 px shifts and the ink left in the field at 8 px, as fractions:
    keys 'mlp_right', 'mlp_down', 'cnn_right', 'cnn_down' (each [at 3, 4, 5 px]) and 'ink_down_8' (one value) —
    from weights/robustness.json. ``errors``: (CNN, MLP) mistakes on the 10,000 test digits. ``parameters``: the
    CNN's convolutions, its first fully connected layer, the CNN in all, the MLP's first layer, the MLP in all.
    ``mlp_widths``: its layers' widths. ``background``: a black pixel as the MLP's first layer sees it (normalised).
    A sentence whose figures are missing is left out.
    """
    shape = f", {' → '.join(str(n) for n in mlp_widths)}" if mlp_widths else ""
    parts = [say("explain.mlp_intro", shape=shape)]
    if background is not None:
        parts.append(say("explain.mlp_background", background=signed(background)))
    parts.append(say("explain.cnn_sharing"))
    if errors:
        parts.append(say("explain.mistakes", cnn=errors[0], mlp=errors[1],
                         ratio=localised(f"{errors[1] / max(errors[0], 1):.1f}")))
    if parameters:
        convs, cnn_fc, cnn_total, mlp_fc, mlp_total = parameters
        parts.append(say("explain.parameters", convs=convs, cnn_fc=cnn_fc, cnn_total=cnn_total, mlp_fc=mlp_fc,
                         mlp_total=mlp_total))
    parts.append(say("explain.shift_charts"))
    if shift:
        parts.append(_shift_figures(shift))
    cut_off = say("explain.cut_off", cut_off=percent(1 - shift["ink_down_8"])) if shift else ""
    parts.append(say("explain.not_invariant", cut_off=cut_off))
    return "".join(parts)


def saliency(cam_layer: str, cam_shape: tuple[int, int]) -> str:
    """The saliency explanation; ``cam_layer`` and ``cam_shape`` (h, w) are the stage Grad-CAM really uses."""
    h, w = cam_shape
    return say("explain.saliency", cam_layer=cam_layer, h=h, w=w)


def architecture(first_field: int, last_field: int) -> str:
    """The architecture explanation; the receptive fields after conv1 and after the last pooling, from the model."""
    return say("explain.architecture", first_field=first_field, last_field=last_field)


MODEL_CARD = Later(lambda: say("explain.model_card"))


def calibration_note(calibration: dict, smoothing: float | None) -> str:
    """What the softmax percentage means for this network, from weights/calibration.json."""
    bins = [b for b in calibration["bins"] if b["count"]]
    parts = [say("explain.calibration_bars", digits=calibration["digits"])]
    if all(b["accuracy"] >= b["confidence"] for b in bins):
        parts.append(say("explain.calibration_above"))
    parts.append(say("explain.calibration_spread",
                     median=localised(f"{100 * calibration['median_top_when_right']:.1f}"),
                     p99=localised(f"{100 * calibration['p99_top_when_right']:.1f}")))
    if smoothing:
        target = 1 - smoothing + smoothing / 10
        parts.append(say("explain.calibration_smoothing", smoothing=localised(f"{smoothing:g}"),
                         target=localised(f"{100 * target:.1f}")))
    parts.append(say("explain.calibration_meaning",
                     usual=localised(f"{100 * calibration['median_top_when_right']:.0f}"),
                     unsure_below=localised(f"{100 * calibration['unsure_below']:.0f}")))
    return "".join(parts)


def training_loss_note(label_smoothing: float, floor: float) -> str:
    """Why the curves show training loss above test loss; ``floor`` is the smallest loss label smoothing allows."""
    return say("explain.training_loss", smoothing=localised(f"{label_smoothing:g}"), floor=localised(f"{floor:.2f}"))


CONFIDENCE_NOTE = Later(lambda: say("explain.confidence"))
NOT_A_DIGIT = Later(lambda: say("explain.not_a_digit"))
# A class room's network (demo/core/room_network.py): "none of these" instead of "not a digit".
NONE_OF_THESE = Later(lambda: say("explain.none_of_these"))
DIGIT_OR_NOT = Later(lambda: say("explain.digit_or_not"))
