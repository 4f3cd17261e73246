"""The short texts beside each teaching view, in the classic CNN tutorial's terms. Plain HTML fragments.

Kept in one place so a teacher can read (and correct) all of them together, apart from the code that draws views.
A text that states a figure takes it as an argument, and the views pass the project's own data (the model, the
weights' metadata, weights/robustness.json), so a text cannot drift from the model it describes.

Words used the same way everywhere: a *kernel* is one k×k grid of weights; a conv layer's *filter* for one output
channel is one kernel per input channel (for conv1, whose input has one channel, a filter is a single kernel); the
*MLP* is the plain fully connected network the CNN is compared with (a CNN is an artificial neural network too).
"""

from __future__ import annotations

from demo.core.model import MNIST_MEAN, MNIST_STD
from demo.core.preprocess import MNIST_BOX

MINUS = "−"  # the typographic minus, in every number the page shows


def signed(value: float, digits: int = 2, plus: bool = False) -> str:
    """``value`` with ``digits`` decimals and a true minus sign (and a plus sign when ``plus``); a value that rounds to
    zero shows no sign of its own."""
    if round(value, digits) == 0:
        value = 0.0
    text = f"{value:+.{digits}f}" if plus else f"{value:.{digits}f}"
    return text.replace("-", MINUS)


def percent(fraction: float, digits: int = 1) -> str:
    return f"{100 * fraction:.{digits}f} %"


BACKGROUND = (0 - MNIST_MEAN) / MNIST_STD  # the black background after the network's normalisation
INK = (1 - MNIST_MEAN) / MNIST_STD  # white ink after it

IMAGE_AS_NUMBERS = (
    "To the network an image is just a grid of numbers: 28×28 = 784 brightness values, 0 for black and 1 for white. "
    f"Your drawing is cropped, scaled to {MNIST_BOX} px and centred by its centre of mass, exactly as the MNIST "
    "digits were (MNIST: 60,000 training and 10,000 test images of handwritten digits). The network's first stage "
    f"then rescales every value to (x {MINUS} {MNIST_MEAN:g}) / {MNIST_STD:g}, the scale it was trained on: black "
    f"becomes {signed(BACKGROUND)}, white {signed(INK)}.")


def layers(first_kernel: int) -> str:
    """The big picture of a CNN; ``first_kernel`` is the side of conv1's kernels (from the model)."""
    return (
        "A <b>convolution layer</b> slides small grids of weights, its <b>kernels</b>, over the image and writes one "
        "number per position: how strongly the patch under the kernel matches it. The grid of answers is a "
        "<b>feature map</b>, one per filter. Two ideas make this work for images. <b>Locality</b>: each value "
        f"depends only on a small patch ({first_kernel}×{first_kernel} pixels in conv1), because nearby pixels "
        "belong together. <b>Weight sharing</b>: the same weights are used at every position, so a stroke is "
        "detected wherever it is, with few weights to learn. <b>ReLU</b> (max(0, x)) then keeps the positive "
        "responses and sets the rest to 0. Without such a <b>nonlinearity</b>, layers stacked on layers would add "
        "up to one single linear map, no more powerful than one layer. <b>Pooling</b> shrinks each map. At the end "
        "the maps are <b>flattened</b> into one long list of numbers for the <b>fully connected</b> layers, whose "
        "last layer gives one score per label 0–9; softmax turns the scores into probabilities. The pipeline: "
        "conv → ReLU → pool → … → flatten → fully connected → labels.")


CONVOLUTION = (
    "Each output value is the sum of the kernel's weights times the pixels under it. "
    f"<b>Valid</b> convolution only places the kernel where it fits entirely (output n {MINUS} k + 1); <b>same</b> "
    f"pads with zeros so the output keeps the input's size n (an even kernel cannot be centred, so one side gets one "
    f"more row and column of zeros than the other); <b>full</b> pads k {MINUS} 1 zeros on every side, so every "
    f"overlap counts (n + k {MINUS} 1). A <b>stride</b> s moves the kernel s pixels at a time: "
    f"⌊(n + p_before + p_after {MINUS} k) / s⌋ + 1 values per side, where p_before and p_after are the zeros added "
    "before and after (both 0 for valid). Edge kernels (weights summing to 0) answer where brightness changes; blur "
    "kernels (summing to 1) average. As in every deep-learning library, the kernel is not flipped (strictly, a "
    "cross-correlation).")

# Batch normalisation, named wherever the shipped weights are shown.
BATCH_NORM = (
    "batch normalisation folded in (during training it rescaled each channel's values, batch by batch of images, to "
    "a set average and spread; once trained it is just a fixed multiply-and-add per channel, so it was merged into "
    "the weights and bias)")

LEARNED_KERNEL_NOTE = (
    "A learned kernel is applied here as conv1 applies it: to the normalised drawing (black = "
    f"{signed(BACKGROUND)}, white = {signed(INK)}), with zero padding (0 is the normalised value of a dark grey "
    "pixel, not of the black background) and its bias added. In same mode with stride 1 the output is exactly "
    f"conv1's feature map before ReLU. The weights and bias are the trained ones with {BATCH_NORM}.")

POOLING = (
    "<b>Pooling</b> summarises each window of a feature map by one number: <b>max pooling</b> keeps the largest "
    "(was this feature present anywhere here?), <b>mean pooling</b> the average. The map shrinks (a 2×2 window "
    "with stride 2 halves each side), so the next layers cost less and each of their values sees a wider part of "
    "the drawing, and a feature that moves by a pixel inside a window gives the same max. Max pooling does "
    "<i>not</i> remove noise: a lone strong response among zeros survives at full strength. Mean pooling damps it "
    "(a lone value in a 2×2 window is divided by 4), but it also weakens thin real strokes.")

ONE_VALUE = (
    "Every number in a feature map is computed the same way: take the patch of the layer's input under the kernel "
    "(where it hangs over the border, the layer's zero padding fills in), multiply element by element with the "
    "kernel's weights, add everything up and add the bias, then apply ReLU. Deeper layers have one kernel per input "
    "channel and add the channels' sums together. The weights and biases shown are the trained ones with "
    f"{BATCH_NORM}: exactly what the shipped network computes with.")

CONV1_PADDING_NOTE = (
    f"conv1 reads the normalised drawing, where the black background is {signed(BACKGROUND)}, not 0: the zero "
    "padding outside the image is the value of a dark grey pixel, slightly brighter than the background. So a "
    "negative (blue) weight over background <i>adds</i> to the sum (negative × negative), and only ink, above 0, "
    "is subtracted by it.")


def cnn_vs_mlp(shift: dict[str, list[float]] | None, errors: tuple[int, int] | None,
               parameters: tuple[int, int, int, int, int] | None, mlp_widths: list[int] | None,
               background: float | None = None) -> str:
    """The CNN-vs-MLP explanation with the project's own figures.

    ``shift``: accuracies at 3, 4 and 5 px shifts and the ink left in the field at 8 px, as fractions:
    keys 'mlp_right', 'mlp_down', 'cnn_right', 'cnn_down' (each [at 3, 4, 5 px]) and 'ink_down_8' (one value) —
    from weights/robustness.json. ``errors``: (CNN, MLP) mistakes on the 10,000 test digits. ``parameters``: the
    CNN's convolutions, its first fully connected layer, the CNN in all, the MLP's first layer, the MLP in all.
    ``mlp_widths``: its layers' widths. ``background``: a black pixel as the MLP's first layer sees it (normalised).
    """
    shape = f", {' → '.join(str(n) for n in mlp_widths)}" if mlp_widths else ""
    text = (f"The <b>MLP</b> (a plain fully connected network{shape}) gives every one of the 784 "
            "pixels its own weights. Move the digit and its ink lands on other inputs, with other weights. ")
    if background is not None:
        text += (f"The MLP normalises the picture first, as the CNN does, so a black background pixel reaches its "
                 f"first layer as {signed(background)}, not 0: every background pixel adds its weight × "
                 f"{signed(background)}, and a move changes which pixels are background, so those terms change too. ")
    text += ("The CNN's shared kernels find the same strokes wherever they are (<b>translation equivariance</b>) and "
             "pooling absorbs small shifts (some <b>translation invariance</b>). ")
    if errors:
        text += (f"Unmoved, the CNN makes {errors[0]} mistakes on the 10,000 MNIST test digits and the MLP "
                 f"{errors[1]}: {errors[1] / max(errors[0], 1):.1f}× as many. ")
    if parameters:
        convs, cnn_fc, cnn_total, mlp_fc, mlp_total = parameters
        text += (f"The CNN's convolutions hold {convs:,} parameters, each kernel reused at every position; its "
                 f"first fully connected layer holds {cnn_fc:,}, and the whole CNN {cnn_total:,}. The MLP's first "
                 f"layer alone holds {mlp_fc:,} ({mlp_total:,} in all). ")
    text += ("The charts show both networks on all 10,000 test digits moved by the same amount. Both were trained on "
             "slightly moved and turned digits, so both cope with small moves. ")
    if shift:
        mr, md, cr, cd = shift["mlp_right"], shift["mlp_down"], shift["cnn_right"], shift["cnn_down"]
        text += (f"At 3 px the MLP still reads {percent(mr[0])} (right) and {percent(md[0])} (down); it falls to "
                 f"{percent(mr[1])} / {percent(md[1])} at 4 px and {percent(mr[2])} / {percent(md[2])} "
                 f"at 5 px, while the CNN keeps {percent(cr[1])} / {percent(cd[1])} at 4 px and "
                 f"{percent(cr[2])} / {percent(cd[2])} at 5 px. ")
    text += ("Neither is invariant to large shifts or rotations. Partly the digits leave the field")
    if shift:
        text += f" (moved 8 px down, {percent(1 - shift['ink_down_8'])} of the ink is cut off)"
    text += (", partly MNIST's digits are always centred, so neither network ever saw one at the edge, and the CNN's "
             "fully connected layers still depend on where things are. A rotated 6 really can look like a 9.")
    return text


def saliency(cam_layer: str, cam_shape: tuple[int, int]) -> str:
    """The saliency explanation; ``cam_layer`` and ``cam_shape`` (h, w) are the stage Grad-CAM really uses."""
    h, w = cam_shape
    return (
        "Which pixels drove the answer? Both methods explain a class's <b>score</b>: fc2's output for that class, "
        "before softmax. <b>Gradient × input</b> estimates how much the score would drop if the pixel were removed "
        "(set to black), by a linear estimate: the derivative of the score times the pixel's drawn value (0 for "
        "black). On the black background it is 0 by construction, so it can only point at ink you drew, never at "
        "a stroke that is "
        f"missing. <b>Grad-CAM</b> weights the feature maps of {cam_layer} (the ReLU after the last convolution, "
        f"{h}×{w}) by how much each one raises the score, and shows where those maps are active: coarser than "
        "single pixels, but less noisy. Grad-CAM's picture is scaled to its own strongest value. Gradient × input "
        "shows only the pixels that raise the score, scaled so that the top 2 % of them are at full heat (a few "
        "extreme pixels would otherwise leave the rest invisible); pixels whose ink lowers the score (evidence "
        "against the class) are left out. So compare where the heat is, not how hot it looks across classes: the "
        "scores underneath tell how strong the evidence is.")


def architecture(first_field: int, last_field: int) -> str:
    """The architecture explanation; the receptive fields after conv1 and after the last pooling, from the model."""
    return (
        "The network, read from the model itself: each stage's output shape (channels × height × width), its number "
        "of learned parameters, and how much of the drawing one of its values sees (its <b>receptive field</b>: "
        f"{first_field}×{first_field} pixels after conv1, growing with every convolution and pooling to "
        f"{last_field}×{last_field} before the fully connected layers, which see everything). Convolutions need few "
        "parameters because each kernel is small and shared across the image; the first fully connected layer, "
        "which connects every value of the last maps to every hidden unit, holds most of them.")


MODEL_CARD = (
    "How good is the shipped network? It is measured on MNIST's 10,000 test images, which it never trained on "
    "(MNIST: 60,000 training and 10,000 test images of handwritten digits 0–9). The network's score on these images "
    "was checked while the training recipe was being chosen (no separate set of images was kept aside for that), so "
    "the figure may be a little optimistic. The confusion matrix counts, for each true digit (row), what the "
    "network answered (column): everything off the diagonal is a mistake.")


def calibration_note(calibration: dict, smoothing: float | None) -> str:
    """What the softmax percentage means for this network, from weights/calibration.json."""
    bins = [b for b in calibration["bins"] if b["count"]]
    above = all(b["accuracy"] >= b["confidence"] for b in bins)
    text = ("Each bar is one range of the top softmax probability (under the bar; narrower near the top, where most "
            "digits are; the number below it is how many of the "
            f"{calibration['digits']:,} MNIST test digits fell in it). Its height is the share of those digits read "
            "right; the dashed mark is the range's average probability, where the bar would end if the percentage "
            "were exactly the chance of being right. ")
    if above:
        text += ("Every bar reaches above its mark: on test digits the network is right more often than its "
                 "percentage says. ")
    text += (f"On digits it reads right, its top probability has a median of "
             f"{100 * calibration['median_top_when_right']:.1f} % and reaches "
             f"{100 * calibration['p99_top_when_right']:.1f} % only 1 time in 100. ")
    if smoothing:
        target = 1 - smoothing + smoothing / 10
        text += (f"Training used label smoothing ({smoothing:g}): its target for the right digit is "
                 f"{100 * target:.1f} %, not 100 %. ")
    text += (f"So {100 * calibration['median_top_when_right']:.0f} % on a clean digit is this network's usual answer, "
             f"not a few percent of doubt. In every range from {100 * calibration['unsure_below']:.0f} % up, at least "
             "9 in 10 test digits were read right; the class room's gallery marks drawings below it as unsure. "
             "Pupils' drawings are not MNIST digits, so treat these shares as a guide, not a promise.")
    return text


def training_loss_note(label_smoothing: float, floor: float) -> str:
    """Why the curves show training loss above test loss; ``floor`` is the smallest loss label smoothing allows."""
    return (f"Why is the training loss above the test loss, and training accuracy below test accuracy? They are not "
            f"measured alike. Training uses label smoothing ({label_smoothing:g}: the target gives every wrong digit "
            f"a little probability, so even perfect answers cost at least {floor:.2f}), dropout, and augmented, "
            "harder digits (moved, turned, re-drawn). The test numbers use the plain test images, the whole network "
            "and plain cross-entropy.")

CONFIDENCE_NOTE = (
    "The percentage is the softmax probability of the top class, not a calibrated confidence. Softmax shares 100 % "
    "among the ten digits, so some digit is always named; a scribble can still get a large share, because the network "
    "never saw anything but digits, so nothing taught it to give all ten digits similar scores for such drawings.")
NOT_A_DIGIT = (
    "Softmax names one of the ten digits whatever was drawn; inside, this drawing's features are unlike any "
    "training digit's (a low digit score: see the Digit or not? tab).")
DIGIT_OR_NOT = (
    "Softmax, the network's last step, always shares 100 % among the ten digits, so a letter, a star or a scribble "
    "is still named a digit, often with a large percentage: the network only ever saw digits, so nothing taught it "
    "to give all ten similar scores for such drawings. The <b>digit score</b> looks inside instead: how far the "
    "drawing's features (the average response of every "
    "filter of relu1, relu2 and "
    "relu3, and the values of relu4, the last hidden layer) are from those of the nearest digit class in the "
    "training digits, plus how strongly the last layer responds at all. Digits score high; drawings that are not "
    "digits score low. Below the line, the page says \"this does not look like a digit\". What the score cannot "
    "do: it measures only how unlike the training digits a drawing is inside the network and how weakly the last "
    "layer responds, and it was fitted on digits alone, never on a non-digit. So a drawing that looks like a digit "
    "to the network, such as a letter O read as a 0, passes as a digit; and a few real digits fall below the line "
    "too: it was set so that 1 in 100 of a set of redrawn training digits does. The note under the chart says how "
    "many of each set fall below it.")
