"""The Gradio page: layout, event wiring, the pad, classroom mode, the lesson and insight tabs, and their static
JavaScript and CSS (``static/``). The top layer: imports every layer below, none imports it.
"""
