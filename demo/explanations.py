"""The short texts beside each teaching view, in the classic CNN tutorial's terms. Plain HTML fragments.

Kept in one place so a teacher can read (and correct) all of them together, apart from the code that draws views.
"""

from __future__ import annotations

IMAGE_AS_NUMBERS = (
    "To the network an image is just a grid of numbers: 28×28 = 784 brightness values, 0 for black and 1 for white. "
    "Your drawing is cropped, scaled to 20 px and centred by its centre of mass, exactly as the MNIST digits were.")

LAYERS = (
    "A <b>convolution layer</b> slides each of its small <b>kernels</b> (filters) over the image and writes one "
    "number per position: how strongly that patch matches the kernel. The grid of answers is a <b>feature map</b>. "
    "The same kernel is used everywhere (<b>locality</b> and shared weights), so a stroke is detected wherever it "
    "is. <b>ReLU</b> (max(0, x)) then keeps positive responses only: without a nonlinearity, stacked layers would "
    "collapse into one linear map. <b>Pooling</b> shrinks each map, and finally the maps are <b>flattened</b> into "
    "one long vector for the <b>fully connected</b> layers that end in the 10 labels.")

CONVOLUTION = (
    "Each output value is the sum of the kernel's weights times the pixels under it. "
    "<b>Valid</b> convolution only places the kernel where it fits entirely (output n − k + 1); <b>same</b> pads "
    "with zeros so the output keeps the input's size n (an even kernel cannot be centred, so one side gets one more "
    "row and column of zeros than the other); <b>full</b> pads k − 1 zeros on every side, so every overlap counts "
    "(n + k − 1). A <b>stride</b> s moves the kernel s pixels at a time: ⌊(n + padding − k) / s⌋ + 1 values per "
    "side. Edge kernels (weights summing to 0) answer where brightness changes; blur kernels (summing to 1) "
    "average. As in every deep-learning library, the kernel is not flipped (strictly, a cross-correlation).")

POOLING = (
    "<b>Pooling</b> summarises each window of a feature map by one number: <b>max pooling</b> keeps the largest "
    "(was this feature present anywhere here?), <b>mean pooling</b> the average. The map shrinks (a 2×2 window "
    "with stride 2 halves each side, so the next layers cost less and see a wider area), small shifts of the "
    "drawing change the result less, and isolated weak responses (noise) are suppressed.")

ONE_VALUE = (
    "Every number in a feature map is computed the same way: take the patch of the layer's input under the kernel "
    "(zeros where it hangs over the border: that is the padding), multiply element by element with the kernel's "
    "weights, add everything up and add the bias, then apply ReLU. Deeper layers do this over every input channel "
    "at once and add the channels' sums together.")

CNN_VS_ANN = (
    "A plain fully connected network (the tutorial's <b>ANN</b>) sees the 784 pixels as an unordered list: move the "
    "digit by a few pixels and, for the ANN, every input changes. The CNN's shared kernels find the same strokes "
    "wherever they are (<b>translation equivariance</b>) and pooling absorbs small shifts (some <b>translation "
    "invariance</b>). The charts show both networks on all 10,000 MNIST test digits moved by the same amount. Both "
    "were trained on digits jittered by up to about 2 px and 15°, so both cope with small moves; from about 3 px "
    "the ANN collapses while the CNN holds out to about 4-5 px. Neither is invariant to large shifts or rotations: "
    "the CNN's final fully connected layers still depend on where things are, and a rotated 6 really can look "
    "like a 9.")

SALIENCY = (
    "Which pixels drove the answer? <b>Gradient × input</b> asks how much the class score would change if each "
    "pixel were dimmed (the derivative of the score times the pixel). <b>Grad-CAM</b> weights the last convolution "
    "layer's feature maps by how much each one raises the class score and shows where those maps are active "
    "(coarser, 7×7, but less noisy). Pick another class to see what would have made the network say that.")

ARCHITECTURE = (
    "The network, read from the model itself: each stage's output shape (channels × height × width) and its number "
    "of learned parameters. Convolutions need few parameters because each kernel is small and shared across the "
    "image; the first fully connected layer, which connects every value of the last maps to every hidden unit, "
    "holds most of them.")

MODEL_CARD = (
    "How good is the shipped network, measured on the 10,000 MNIST test images that it never saw in training "
    "(MNIST: 60,000 training and 10,000 test images of handwritten digits 0–9)? The confusion matrix counts, for "
    "each true digit (row), what the network answered (column): everything off the diagonal is a mistake.")
