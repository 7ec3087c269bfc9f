"""What a browser tab keeps of the page the server drew, without the socket: the widgets' states,
their elements and the fragments that drew them, the page that ran (`navigation`), the query
string, the ForwardMsg cache, and the rerun requests built from all of that.

`tools.streamlit_client.BrowserSession` is one of these with a websocket: it feeds it what the
server sends and sends what it builds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from tools.streamlit_messages import EARLY, MessageCache, element_widget, rerun_message, user_key, widget_state


class BrowserPage:
    """The browser's copy of one page: what it sends back on every rerun, and what it forgets."""

    def __init__(self, url: str, page: str = "", query_string: str = "") -> None:
        self.page = page
        self.query_string = query_string
        self.url = url
        self.session_id = ""
        self.page_script_hash = ""
        self.max_cached_age = 2
        self.widgets: dict[str, WidgetState] = {}  # id -> state the browser would send
        self.elements: dict[str, Element] = {}  # widget id -> its latest element
        self.exceptions: list[str] = []  # the messages of exception boxes the server drew, in order
        self.widget_fragments: dict[str, str] = {}  # widget id -> the fragment that drew it
        self.cache = MessageCache()
        self._seen: set[str] = set()

    # what the page holds

    def widget_id(self, key: str) -> str:
        """The element id of the widget the page drew with this key."""
        found = [widget_id for widget_id in self.elements if user_key(widget_id) == key]
        if not found:
            raise KeyError(f"no widget with key {key!r} on the page (have {sorted(map(user_key, self.elements))})")
        return found[-1]

    def component_data(self, key: str) -> dict[str, Any]:
        """The data a components-v2 element was given (its `data=`), as JSON."""
        element = self.elements[self.widget_id(key)]
        data = json.loads(element.bidi_component.json) if element.bidi_component.json else {}
        if isinstance(data, dict) and set(data) == {"json"}:  # the plane's data (app.plane.preload.as_component_data)
            return json.loads(data["json"])
        return data

    # what the browser sends

    def component_state_message(self, key: str, name: str, value: Any) -> BackMsg:
        """The rerun request `component.setStateValue(name, value)` sends from a components-v2
        element (its JSON state gets `name`); the state is kept for the reruns after it."""
        widget_id = self.widget_id(key)
        current = self.widgets.get(widget_id)
        state = json.loads(current.json_value) if current is not None and current.json_value else {}
        state[name] = value
        self.widgets[widget_id] = widget_state(widget_id, state, json_value=True)
        return self._rerun_message((), self.widget_fragments.get(widget_id, ""), False)

    def _rerun_message(self, extra: Iterable[WidgetState], fragment_id: str, is_auto_rerun: bool) -> BackMsg:
        extra = list(extra)
        overridden = {state.id for state in extra}
        widgets = [state for widget_id, state in self.widgets.items() if widget_id not in overridden]
        return rerun_message(
            [*widgets, *extra], url=self.url, query_string=self.query_string,
            page_script_hash=self.page_script_hash, fragment_id=fragment_id, is_auto_rerun=is_auto_rerun,
            cached_message_hashes=self.cache.hashes(),
        )  # fmt: skip

    # what the server sends

    def _run_started(self, message: ForwardMsg) -> None:
        """A `new_session` message: the session's settings; a full run draws the page afresh."""
        session = message.new_session
        self.session_id = session.initialize.session_id or self.session_id
        self.page_script_hash = session.page_script_hash
        self.max_cached_age = session.config.max_cached_message_age or self.max_cached_age
        if not message.metadata.run.fragment_ids:
            self._seen = set()

    def _element_drawn(self, element: Element, fragment_id: str) -> None:
        """A new element: if it is a widget, its element, its fragment and the value it shows."""
        kind = element.WhichOneof("type")
        if kind == "exception":
            self.exceptions.append(element.exception.message)
        proto = getattr(element, kind) if kind else None
        widget_id = getattr(proto, "id", "") if proto is not None else ""
        if not widget_id.startswith("$$ID-"):
            return
        self.elements[widget_id] = element
        self.widget_fragments[widget_id] = fragment_id
        self._seen.add(widget_id)
        state = element_widget(element, known=widget_id in self.widgets)
        if state is not None:
            self.widgets[widget_id] = state

    def _run_finished(self, status: int, fragments: tuple[str, ...]) -> None:
        """A `script_finished` message: the cache ages; a full run forgets the widgets it did not draw."""
        if status != EARLY:
            self.cache.finished_run(self.max_cached_age, fragments)
        if status == ForwardMsg.FINISHED_SUCCESSFULLY and not fragments:
            # The browser forgets the widgets that are no longer on the page.
            for widget_id in set(self.widgets) - self._seen:
                del self.widgets[widget_id]
            for widget_id in set(self.elements) - self._seen:
                del self.elements[widget_id]
