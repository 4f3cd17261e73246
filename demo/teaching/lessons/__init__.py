"""The computations behind the teaching views, one module per lesson; numbers only (the views write the words,
from the text catalogue demo/texts; the kernels' menu names and the checks' messages are catalogue texts too).

The terms are the CNN tutorial's: a *kernel* (filter) slides over the image and at every position the element-wise
products with the *receptive patch* are summed into one value of the *feature map*; *padding* adds zeros around the
image; the *stride* is the step between positions; *pooling* keeps the max (or mean) of each window.

Deep-learning "convolution" is cross-correlation: the kernel is *not* flipped. Every function here computes it the
way the network's layers do, so a kernel shown on screen is applied exactly as drawn. Everything is a pure function
of its arguments (numpy and torch only), tested against PyTorch in tests/test_lessons.py.

- :mod:`.convolution`: hand-made and learned kernels, output sizes for valid / same / full and strides, applying one
- :mod:`.pooling`: max and mean pooling, and the window behind one pooled value
- :mod:`.one_value`: one feature-map value computed by hand (patch × kernel, sum, bias, ReLU)
- :mod:`.saliency`: gradient × input and Grad-CAM
- :mod:`.architecture`: every stage of a model with its output shape and parameters
- :mod:`.inspector`: any one value of any stage, computed step by step from the stage's input
"""
