"""Widget values as a browser sends them, checked before Streamlit reads them.

A websocket message can be written by hand: a value of the wrong type for its widget (a number for
the model picker), or JSON that does not parse or nests beyond Python's recursion limit, makes
Streamlit raise while it restores the widgets, before the page's code runs, and show the sender an
exception on that run and every run after. Such a value is dropped here, so the widget keeps the
value it had. (The size of a message is bounded by `server.maxWidgetStateSize` in
.streamlit/config.toml.)

Streamlit offers no public hook for this: `SessionState.set_widgets_from_proto` is wrapped
(tests/test_forged_messages.py fails if that method changes).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from streamlit.runtime.state.session_state import SessionState

logger = logging.getLogger(__name__)
JSON_FIELDS = ("json_value", "json_trigger_value")
# Fields a browser sends interchangeably for one widget: an integer number input registers
# `double_value` and the browser sends `int_value`; a component sends its state or its trigger.
INTERCHANGEABLE = (frozenset({"int_value", "double_value"}), frozenset({"int_array_value", "double_array_value"}),
                   frozenset(JSON_FIELDS))  # fmt: skip


def check_widget_states() -> None:
    """Drop implausible widget values from every message before Streamlit reads them (once per process)."""
    original = SessionState.set_widgets_from_proto
    if getattr(original, "checks_values", False):
        return

    def set_checked(self: SessionState, widget_states: WidgetStates) -> None:
        kept = [state for state in widget_states.widgets if plausible(state, _expected_field(self, state.id))]
        if len(kept) != len(widget_states.widgets):
            logger.warning("dropped %d widget values that no browser sends", len(widget_states.widgets) - len(kept))
            del widget_states.widgets[:]  # in place: Streamlit reads this message again later in the run
            widget_states.widgets.extend(kept)
        original(self, widget_states)

    set_checked.checks_values = True  # type: ignore[attr-defined]
    SessionState.set_widgets_from_proto = set_checked  # type: ignore[method-assign]


def plausible(state: WidgetState, expected_field: str | None) -> bool:
    """Whether a browser could have sent `state`: the value field its widget uses (where known), and
    JSON that parses."""
    field = state.WhichOneof("value")
    if expected_field is not None and field is not None and not same_kind(field, expected_field):
        return False
    if field in JSON_FIELDS:
        try:
            json.loads(getattr(state, field))
        except (ValueError, RecursionError):
            return False
    return True


def same_kind(field: str, expected_field: str) -> bool:
    """Whether a widget registered with `expected_field` may receive its value in `field`."""
    return field == expected_field or any({field, expected_field} <= group for group in INTERCHANGEABLE)


def _expected_field(session: SessionState, widget_id: str) -> str | None:
    """The value field of the widget `widget_id`, if it has been drawn in this session."""
    metadata: Any = session._new_widget_state.widget_metadata.get(widget_id)
    return getattr(metadata, "value_type", None)
