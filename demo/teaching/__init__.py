"""What the lessons compute and say: the tutorial's computations, the training snapshots, the nearest digits, the
filter atlas, and every teaching text. Numbers and sentences, no HTML; imports only :mod:`demo.core`.
"""
