"""The network and what it reads: the model, its weights, preprocessing, strokes, MNIST, the digit score.

torch and numpy only; no HTML, no web. Training (``train.py``) and every layer above import it; it imports none of
them.
"""
