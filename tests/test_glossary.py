"""The glossary: every word the issue names is defined, with this network's own figures, and filter / kernel /
channel are used in the glossary's sense."""

from __future__ import annotations

import re

import pytest
import torch

from demo.core.classifier import load_classifier
from demo.teaching.calibration import load_report
from demo.views.glossary import TERMS, glossary_html

TERM_ANCHORS = {"kernel", "filter", "channel", "feature-map", "activation", "logit", "softmax", "receptive-field",
                "batch-norm", "digit-likeness-score"}


@pytest.fixture(scope="module")
def clf():
    return load_classifier()


@pytest.fixture(scope="module")
def glossary(clf) -> str:
    return str(glossary_html(clf.model, load_report(str(clf.path))["median_top_when_right"]))


def definition(glossary: str, anchor: str) -> str:
    found = re.search(rf'<dt id="term-{anchor}">[^<]*</dt><dd>(.*?)</dd>', glossary)
    assert found, anchor
    return re.sub(r"<[^>]+>", "", found.group(1))


def test_every_term_is_defined_once_with_an_anchor(glossary):
    assert {anchor for anchor, _, _ in TERMS} == TERM_ANCHORS
    for anchor in TERM_ANCHORS:
        assert glossary.count(f'id="term-{anchor}"') == 1


def test_filter_and_kernel_figures_are_the_models(clf, glossary):
    convs = [m for m in clf.model if isinstance(m, torch.nn.Conv2d)]
    conv1, conv2 = convs[0], convs[1]
    filters = definition(glossary, "filter")
    assert f"each of its {conv1.out_channels} filters is a single {conv1.kernel_size[0]}×{conv1.kernel_size[1]}" \
        in filters
    assert (f"each of conv2's {conv2.out_channels} filters holds {conv2.in_channels} kernels of "
            f"{conv2.kernel_size[0]}×{conv2.kernel_size[1]}") in filters
    # conv2's weights really are one k×k kernel per input channel per filter
    assert tuple(conv2.weight.shape) == (conv2.out_channels, conv2.in_channels, *conv2.kernel_size)
    assert f"{conv1.kernel_size[0]}×{conv1.kernel_size[0]} in conv1" in definition(glossary, "kernel")


def test_receptive_fields_are_the_architecture_tables(clf, glossary):
    from demo.teaching.lessons.architecture import architecture
    rows = {r.name: r.receptive_field for r in architecture(clf.model)}
    text = definition(glossary, "receptive-field")
    assert f"{rows['conv1']}×{rows['conv1']} pixels for conv1" in text
    assert f"{rows['pool2']}×{rows['pool2']} for pool2" in text
    assert rows["fc1"] == 28 and "fc1 and every stage after it see all 28×28" in text


def test_softmax_definition_quotes_the_calibration_report_or_nothing(clf, glossary):
    median = load_report(str(clf.path))["median_top_when_right"]
    assert f"usually shows about {100 * median:.0f} %" in definition(glossary, "softmax")
    without = str(glossary_html(clf.model, None))
    assert "usually shows" not in definition(without, "softmax")
    assert "not the chance that the answer is right" in definition(without, "softmax")


# Phrasings that contradict the glossary: a filter is one kernel per input channel (not "a small grid"), a deeper
# layer's kernels are kernels (not "tiles"), and what a deeper feature map matches is no pixel pattern of a kernel.
AGAINST_THE_GLOSSARY = ("tile", "kernel's pattern", "one per kernel", "filter: a small grid")


def test_no_text_uses_kernel_filter_or_channel_against_the_glossary():
    from demo.texts import entries
    found = [(key, phrase) for key, text in entries().items() for phrase in AGAINST_THE_GLOSSARY
             if phrase in text.lower()]
    assert not found, found
