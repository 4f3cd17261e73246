"""The glossary: the words every text on the page uses (kernel, filter, channel, ...), with this network's figures.

The definitions are in the text catalogue (section ``glossary``); each term gets a stable anchor, ``#term-<name>``.
"""

from __future__ import annotations

from markupsafe import Markup
from torch import nn

from demo.teaching.lessons.architecture import architecture
from demo.texts import say
from demo.texts.catalogue import entries, placeholders

# (anchor, the catalogue's key for the term, for its definition), in the order a learner meets them.
TERMS = (
    ("channel", "glossary.channel_term", "glossary.channel"),
    ("kernel", "glossary.kernel_term", "glossary.kernel"),
    ("filter", "glossary.filter_term", "glossary.filter"),
    ("feature-map", "glossary.feature_map_term", "glossary.feature_map"),
    ("activation", "glossary.activation_term", "glossary.activation"),
    ("receptive-field", "glossary.receptive_field_term", "glossary.receptive_field"),
    ("batch-norm", "glossary.batch_norm_term", "glossary.batch_norm"),
    ("logit", "glossary.logit_term", "glossary.logit"),
    ("softmax", "glossary.softmax_term", "glossary.softmax"),
    ("digit-likeness-score", "glossary.digit_likeness_term", "glossary.digit_likeness"),
)


def figures(model: nn.Sequential, usual_top: float | None) -> dict[str, object]:
    """The numbers the definitions quote, read from the model (and the calibration report's median top softmax
    probability on test digits read right, ``usual_top``, a fraction, or None when the weights have no report)."""
    rows = architecture(model)
    convs = [r for r in rows if r.kind == "conv"]
    first, second = convs[0], convs[1]
    before_dense = [r for r in rows if r.kind != "fc"]
    last_maps = next(r for r in reversed(before_dense) if r.kind == "pool")
    return {"conv1_filters": first.settings["out_channels"], "k1": first.settings["kernel"][0],
            "conv2_filters": second.settings["out_channels"], "conv2_inputs": second.settings["in_channels"],
            "k2": second.settings["kernel"][0], "rf_first": first.receptive_field, "rf_last": last_maps.receptive_field,
            "usual": f"{100 * usual_top:.0f}" if usual_top is not None else None}


def glossary_html(model: nn.Sequential, usual_top: float | None) -> str:
    """The glossary as a definition list (``#glossary``), each term anchored at ``#term-<name>``."""
    values = figures(model, usual_top)
    entries = Markup("").join(
        Markup('<dt id="term-{anchor}">{term}</dt><dd>{definition}</dd>').format(
            anchor=anchor, term=say(term), definition=_filled(definition, values))
        for anchor, term, definition in TERMS)
    return Markup('<div id="glossary" class="lesson"><div class="view-title">{title}</div>'
                  '<p class="explain">{intro}</p><dl class="glossary">{entries}</dl></div>').format(
        title=say("glossary.title"), intro=say("glossary.intro"), entries=entries)


def _filled(key: str, values: dict[str, object]) -> Markup:
    """A definition with the figures it names (each definition names only some of them)."""
    wanted = placeholders(entries()[key])
    text = say(key, **{name: values[name] for name in wanted})
    if key == "glossary.softmax" and values["usual"] is not None:
        text += say("glossary.softmax_usual", usual=values["usual"])
    return text
