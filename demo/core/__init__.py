"""The network and what it reads: the model, its weights, preprocessing, strokes, MNIST, the digit score.

No HTML, no web: torch, numpy, PIL, scipy and scikit-image, safetensors. Training (``train.py``) and every layer
above import it; it imports none of them.
"""
