"""The browser's side of Streamlit's websocket protocol, as data: the messages a browser sends
(`rerun_message`, widget states read from the elements the server sent), the ForwardMsg cache
it keeps, what one script run looked like to it (`RunResult`), and the plane's published files.

`tools.streamlit_client.BrowserSession` speaks the protocol with these; see there for what is
sent and when.
"""

from __future__ import annotations

import gzip
import json
import struct
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

STREAM_PATH = "_stcore/stream"
AUTH_PLACEHOLDER = "PLACEHOLDER_AUTH_TOKEN"  # what the browser sends without an XSRF cookie
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
# What headless Chromium sent here (ContextInfo of every rerun).
BROWSER_CONTEXT = {"timezone": "UTC", "timezone_offset": 0, "locale": "en-US", "is_embedded": False,
                   "color_scheme": "light"}  # fmt: skip
FINISHED = {value: name for name, value in ForwardMsg.ScriptFinishedStatus.items()}
EARLY = ForwardMsg.FINISHED_EARLY_FOR_RERUN
OK_STATUSES = ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY")
# Widgets whose value the browser holds and sends back on every rerun.
VALUE_WIDGETS = ("selectbox", "radio", "checkbox", "number_input", "text_input", "text_area", "bidi_component")
MAGIC = b"LXD1"  # the tag of models.files.browser_export.pack files (the plane's decoder and test codes)


# --- messages -----------------------------------------------------------------------------------


def rerun_message(
    widgets: Iterable[WidgetState],
    *,
    url: str,
    query_string: str = "",
    page_name: str = "",
    page_script_hash: str = "",
    fragment_id: str = "",
    is_auto_rerun: bool = False,
    cached_message_hashes: Iterable[str] = (),
) -> BackMsg:
    """The rerun request the browser sends (`BackMsg.rerun_script`), with its ContextInfo."""
    message = BackMsg()
    state = message.rerun_script
    state.query_string = query_string
    state.widget_states.SetInParent()  # the browser always sends the field, empty on the first run
    state.widget_states.widgets.extend(widgets)
    state.page_name = page_name
    state.page_script_hash = page_script_hash
    state.fragment_id = fragment_id
    state.is_auto_rerun = is_auto_rerun
    state.cached_message_hashes.extend(cached_message_hashes)
    context = state.context_info
    for name, value in BROWSER_CONTEXT.items():
        setattr(context, name, value)
    context.url = url
    return message


def widget_state(widget_id: str, value: Any, *, json_value: bool = False, trigger: bool = False) -> WidgetState:
    """One widget's value as the browser encodes it: bool, int, float or str by type; a JSON
    string for a component's state (`json_value`); a button press (`trigger`)."""
    state = WidgetState(id=widget_id)
    if trigger:
        state.trigger_value = True
    elif json_value:
        state.json_value = json.dumps(value, separators=(",", ":"), allow_nan=False)
    elif isinstance(value, bool):
        state.bool_value = value
    elif isinstance(value, int):
        state.int_value = value
    elif isinstance(value, float):
        state.double_value = value
    elif isinstance(value, str):
        state.string_value = value
    else:
        raise TypeError(f"no widget encoding for {type(value).__name__}")
    return state


def element_widget(element: Element, known: bool = False) -> WidgetState | None:
    """The state the browser holds for a widget element the server drew: a new widget starts
    from the value the element sets, or else its default; a widget already on the page keeps
    what it holds unless the element sets a value (`set_value`, e.g. from `st.session_state`).
    None when there is nothing to hold or change: text, a button, an unset selectbox, a
    component (it has no state until the browser sets one), or a known widget left as it is."""
    kind = element.WhichOneof("type")
    if kind not in VALUE_WIDGETS or kind == "bidi_component":
        return None
    proto = getattr(element, kind)
    if known and not proto.set_value:
        return None
    if kind in ("selectbox", "radio"):
        if proto.set_value and proto.HasField("raw_value"):
            return widget_state(proto.id, proto.raw_value)
        if proto.HasField("default") and 0 <= proto.default < len(proto.options):
            return widget_state(proto.id, proto.options[proto.default])
        return None
    if kind == "checkbox":
        return widget_state(proto.id, bool(proto.value if proto.set_value else proto.default))
    value = proto.value if proto.set_value and proto.HasField("value") else proto.default
    if kind == "number_input":
        integer = proto.data_type == type(proto).DataType.Value("INT")
        return widget_state(proto.id, int(value) if integer else float(value))
    return widget_state(proto.id, value)  # text_input, text_area


def user_key(widget_id: str) -> str:
    """The key a page gave a widget, from its element id (`$$ID-<hash>-<key>`)."""
    return widget_id.split("-", 2)[2] if widget_id.startswith("$$ID-") and widget_id.count("-") >= 2 else widget_id


def message_shape(message: BackMsg) -> dict[str, Any]:
    """What a rerun request is made of, without its values: the ClientState fields that are
    set, the ContextInfo fields, each widget's key and value kind (and, for JSON values, the
    top-level names). Two messages of the same shape differ only in values."""
    state = message.rerun_script
    widgets = {}
    for widget in state.widget_states.widgets:
        kind = widget.WhichOneof("value")
        names = sorted(json.loads(widget.json_value)) if kind == "json_value" and widget.json_value else None
        widgets[user_key(widget.id)] = kind if names is None else f"{kind} {names}"
    return {
        "fields": sorted(f.name for f, _ in state.ListFields()),
        "context": sorted(f.name for f, _ in state.context_info.ListFields()),
        "widgets": widgets,
    }


class MessageCache:
    """The browser's ForwardMsg cache: cacheable messages by hash, kept while used, expired
    after `max_age` script runs without use (fragment runs age only their own messages)."""

    def __init__(self) -> None:
        self.messages: dict[str, tuple[bytes, int, str]] = {}  # hash -> (payload, run count at last use, fragment)
        self.run_count = 0

    def process(self, message: ForwardMsg, payload: bytes) -> ForwardMsg:
        """Remember a cacheable message; return the message a `ref_hash` stands for."""
        kind = message.WhichOneof("type")
        if kind != "ref_hash" and message.metadata.cacheable and message.hash and message.hash not in self.messages:
            self.messages[message.hash] = (payload, self.run_count, message.delta.fragment_id)
        if kind != "ref_hash":
            return message
        cached = self.messages.get(message.ref_hash)
        if cached is None:
            raise KeyError(f"cached ForwardMsg miss: {message.ref_hash}")
        self.messages[message.ref_hash] = (cached[0], self.run_count, cached[2])
        resolved = ForwardMsg()
        resolved.ParseFromString(cached[0])
        resolved.metadata.CopyFrom(message.metadata)  # the reference carries where it goes
        return resolved

    def finished_run(self, max_age: int, fragment_ids: Iterable[str]) -> None:
        self.run_count += 1
        fragments = set(fragment_ids)
        for key, (_, used, fragment) in list(self.messages.items()):
            if fragments and (not fragment or fragment not in fragments):
                continue
            if self.run_count - used > max_age:
                del self.messages[key]

    def hashes(self) -> list[str]:
        return list(self.messages)


# --- results ------------------------------------------------------------------------------------


@dataclass
class RunResult:
    """One script run as the client saw it."""

    status: str  # a ScriptFinishedStatus name, or "timeout" / "closed" / "not sent"
    seconds: float  # from sending the rerun request (or connecting) to its script_finished
    markdown: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    bytes_received: int = 0
    messages: int = 0

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES and not self.exceptions

    def shows(self, text: str) -> bool:
        return any(text in body for body in self.markdown)


# --- the plane's published data -----------------------------------------------------------------


def read_packed_arrays(blob: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and arrays of a `models.files.browser_export.pack` file (what the plane fetches)."""
    if blob[:4] != MAGIC:
        raise ValueError("not a packed decoder file")
    (length,) = struct.unpack("<I", blob[4:8])
    header = json.loads(blob[8 : 8 + length])
    start = 8 + length
    arrays = {}
    for name, spec in header["arrays"].items():
        dtype = np.dtype(spec["dtype"])
        count = int(np.prod(spec["shape"], dtype=np.int64))
        offset = start + spec["offset"]
        arrays[name] = np.frombuffer(blob, dtype=dtype, count=count, offset=offset).reshape(spec["shape"])
    return header, arrays


def fetch_bytes(base_url: str, relative: str, timeout: float = 60.0) -> bytes:
    """A file the page refers to by a relative URL (as the browser resolves it against the page),
    decompressed if it was published gzipped (`.gz`), as the page does."""
    with urllib.request.urlopen(urllib.parse.urljoin(base_url.rstrip("/") + "/", relative), timeout=timeout) as r:
        body = r.read()
    return gzip.decompress(body) if relative.endswith(".gz") else body
