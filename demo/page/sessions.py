"""Gradio sessions made cheap to start: each block's config snapshot is taken when first needed, not up front.

Gradio starts a session for every call that comes without a session hash (a REST client such as ``curl``, or one
that sends a fresh hash each time), and its ``SessionState`` copies the config of every block of the page when it
starts (``config_values``, kept to rebuild a page for Gradio's deep links). This page has about 70 blocks, so that is
about 9 ms of the web server's event loop per API call, in which nothing else is served: under bench/load.py's 50
users it was the largest part of the web server's work. Here the snapshot of a block is taken on first use instead,
from the session's own config, which holds the same block until the session changes it (and every change writes
its own snapshot); deep links, which read them all, get them all.

Gradio is pinned (requirements.txt); ``tests/test_sessions.py`` checks that the snapshots are the ones Gradio would
have taken, so a Gradio upgrade that changes ``SessionState`` shows there.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from gradio import state_holder

_GradioSessionState = state_holder.SessionState


class LazyConfigs(dict):
    """``SessionState.config_values``: block id -> its config, computed on first use."""

    def __init__(self, session: Any, ids: list[int]) -> None:
        super().__init__()
        self._session = session
        self._ids = ids  # the blocks of the page, in the page's order (Gradio snapshots only those)
        self._known = set(ids)
        self._complete_done = False

    def _snapshot(self, key: int) -> dict:
        blocks_config = self._session.blocks_config
        value = blocks_config.config_for_block(key, [], blocks_config.blocks[key])
        dict.__setitem__(self, key, value)
        return value

    def __missing__(self, key: int) -> dict:
        if key not in self._known:
            raise KeyError(key)
        return self._snapshot(key)

    def _complete(self) -> None:
        """Takes every snapshot not taken yet, and puts them in the page's order, as Gradio's eager dict has them."""
        if self._complete_done:
            return
        blocks = self._session.blocks_config.blocks
        for key in self._ids:
            if not dict.__contains__(self, key) and key in blocks:
                self._snapshot(key)
        ordered = [(k, dict.__getitem__(self, k)) for k in self._ids if dict.__contains__(self, k)]
        others = [(k, v) for k, v in dict.items(self) if k not in self._known]
        dict.clear(self)
        dict.update(self, ordered + others)
        self._complete_done = True

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or (key in self._known and key in self._session.blocks_config.blocks)

    def __iter__(self) -> Iterator[int]:
        self._complete()
        return super().__iter__()

    def __len__(self) -> int:
        self._complete()
        return super().__len__()

    def keys(self):  # type: ignore[override]
        self._complete()
        return super().keys()

    def values(self):  # type: ignore[override]
        self._complete()
        return super().values()

    def items(self):  # type: ignore[override]
        self._complete()
        return super().items()

    def get(self, key: int, default: Any = None) -> Any:  # type: ignore[override]
        return self[key] if key in self else default


class LazySessionState(_GradioSessionState):
    """Gradio's session state, except that ``config_values`` is filled on demand."""

    def __init__(self, blocks: Any) -> None:
        # Gradio's own constructor, shown a page with no blocks to snapshot; the snapshots come from LazyConfigs.
        super().__init__(SimpleNamespace(default_config=blocks.default_config, blocks={}))
        self.config_values = LazyConfigs(self, [k for k in self.blocks_config.blocks if k in blocks.blocks])


def use_lazy_sessions() -> None:
    """Makes Gradio start its sessions with :class:`LazySessionState` (every app in this process)."""
    state_holder.SessionState = LazySessionState
