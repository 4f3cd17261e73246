"""Pictures and HTML: the live panels, the network overview, each tab's view, the printable handout, the colours.

Pure functions of a prediction or a lesson's numbers, returning HTML strings or images; no Gradio, no web server.
Imports :mod:`demo.teaching` and :mod:`demo.core`.
"""
