"""demo/page/sessions.py against Gradio's own SessionState: the same config snapshots, taken on demand."""

from __future__ import annotations

import copy

import pytest
from gradio.state_holder import StateHolder

import demo.page.ui
from demo.page.sessions import LazySessionState, _GradioSessionState


@pytest.fixture(scope="module")
def app(clf):
    demo.page.ui.configure_gradio()  # as every entry point does before it builds the page
    return demo.page.ui.build_app(clf)


def test_every_snapshot_is_the_one_gradio_takes(app):
    eager = _GradioSessionState(app)
    lazy = LazySessionState(app)
    some = sorted(eager.config_values)[-5:]  # the last ones first: the order must still come out as Gradio's
    assert [lazy.config_values[k] for k in some] == [eager.config_values[k] for k in some]  # one at a time
    assert len(lazy.config_values) == len(eager.config_values) > 50  # then all of them
    assert list(lazy.config_values.items()) == list(eager.config_values.items())  # in the same order
    assert list(lazy.components) == list(eager.components)  # what Gradio's deep links read


def test_a_session_that_changes_a_block_snapshots_the_change_as_gradio_does(app):
    eager = _GradioSessionState(app)
    lazy = LazySessionState(app)
    first, second = [k for k, b in app.blocks.items() if type(b).__name__ == "HTML"][:2]
    for session in (eager, lazy):
        session._update_value_in_config(first, "<p>changed</p>")  # an event's new value, as Gradio records it
        session[second] = copy.copy(session.blocks_config.blocks[second])  # a block replaced in the session
    assert lazy.config_values[first]["props"]["value"] == "<p>changed</p>"
    assert lazy.config_values[second] == eager.config_values[second]
    assert list(lazy.config_values.items()) == list(eager.config_values.items())


def test_a_new_session_costs_no_snapshot_until_one_is_needed(app):
    holder = StateHolder()
    holder.set_blocks(app)
    session = holder["a REST call without a session hash"]
    assert isinstance(session, LazySessionState)  # configure_gradio made Gradio use it
    assert dict.__len__(session.config_values) == 0
    assert 1 not in session.config_values or session.config_values[1]
    with pytest.raises(KeyError):
        session.config_values[10**9]  # a block the page does not have
