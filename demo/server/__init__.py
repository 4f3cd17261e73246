"""The HTTP service beside Gradio's: the live pad's route and its worker processes, the class room and its routes.

Imports :mod:`demo.views` and below; never the Gradio page.
"""
