"""The teaching views as HTML, one module per lesson.

The numbers come from :mod:`demo.teaching.lessons` (pure computations, tested against PyTorch); pictures from
:mod:`demo.views.render`; the explanations from :mod:`demo.teaching.explanations`; every other text from the text
catalogue (:mod:`demo.texts`), its placeholders filled here with the numbers.
Each view returns one HTML string whose outer element has a stable id and ``data-*`` attributes carrying the key
numbers, for tests. No Gradio here.

- :mod:`.convolution`: the convolution playground
- :mod:`.pooling`: the pooling explorer
- :mod:`.one_value`: one value computed number by number
- :mod:`.versus`: CNN vs the MLP (a plain fully connected network)
- :mod:`.saliency`: gradient × input and Grad-CAM overlays
- :mod:`.architecture`: the stages, shapes and parameters
- :mod:`.model_card`: accuracy, confusion matrix, training curves
- :mod:`.network`: classroom mode's layer-by-layer forward pass
- :mod:`.inspector`: how one clicked value of any stage was made
"""
