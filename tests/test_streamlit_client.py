"""The browserless Streamlit client (tools/streamlit_client.py): its messages, without a server."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from models.files.browser_export import MAGIC as PACK_MAGIC
from tools.streamlit_messages import (
    MAGIC,
    MessageCache,
    element_widget,
    message_shape,
    read_packed_arrays,
    rerun_message,
    user_key,
    widget_state,
)

PLANE_ID = "$$ID-47f57f74b81d8f495b1d535b2aaee869-explore_plane_dense_vae_2d"
PICKER_ID = "$$ID-bd4d00b28aa29a269fb32733b6c5341f-model_path"


def test_a_click_rerun_round_trips_as_the_browser_sends_it() -> None:
    click = {"x": 0.49262353777885437, "y": -0.2910842001438141, "index": 3239, "seq": 1, "undo": False}
    widgets = [widget_state(PICKER_ID, "Dense VAE 784-512-256-2 (2-D)"),
               widget_state(PLANE_ID, {"click": click}, json_value=True)]  # fmt: skip
    message = rerun_message(widgets, url="http://127.0.0.1:8501/", page_script_hash="50c96920629f14ca8d417775b9b064ea")
    decoded = BackMsg()
    decoded.ParseFromString(message.SerializeToString())
    state = decoded.rerun_script
    assert decoded.WhichOneof("type") == "rerun_script"
    assert state.page_script_hash == "50c96920629f14ca8d417775b9b064ea" and state.page_name == ""
    picker, plane = state.widget_states.widgets
    assert picker.string_value == "Dense VAE 784-512-256-2 (2-D)"
    assert json.loads(plane.json_value) == {"click": click}  # floats survive exactly
    assert plane.json_value.startswith('{"click":{"x":0.49262353777885437,')  # compact, as JSON.stringify writes it
    context = state.context_info
    assert (context.timezone, context.locale, context.url, context.color_scheme) == (
        "UTC", "en-US", "http://127.0.0.1:8501/", "light")  # fmt: skip
    assert context.HasField("is_embedded") and context.HasField("timezone_offset")
    assert message_shape(decoded) == {
        "fields": ["context_info", "page_script_hash", "widget_states"],
        "context": ["color_scheme", "is_embedded", "locale", "timezone", "timezone_offset", "url"],
        "widgets": {"model_path": "string_value", "explore_plane_dense_vae_2d": "json_value ['click']"},
    }


def test_the_first_message_names_the_page_and_sends_empty_widget_states() -> None:
    message = rerun_message([], url="http://h/train", page_name="train", query_string="a=1")
    state = message.rerun_script
    assert state.HasField("widget_states") and not state.widget_states.widgets
    assert (state.page_name, state.query_string, state.page_script_hash) == ("train", "a=1", "")


@pytest.mark.parametrize(
    ("value", "kind"),
    [(True, "bool_value"), (5, "int_value"), (0.001, "double_value"), ("relu", "string_value")],
)
def test_widget_values_take_the_type_of_the_value(value: object, kind: str) -> None:
    state = widget_state("$$ID-x-k", value)
    assert state.WhichOneof("value") == kind and getattr(state, kind) == value
    assert widget_state("$$ID-x-start", True, trigger=True).WhichOneof("value") == "trigger_value"


def test_widget_states_come_from_the_elements_the_server_drew() -> None:
    picker = Element()
    picker.selectbox.id = PICKER_ID
    picker.selectbox.options.extend(["Conv VAE (2-D)", "Dense VAE (2-D)"])
    picker.selectbox.default = 0
    picker.selectbox.raw_value = "Dense VAE (2-D)"
    picker.selectbox.set_value = True
    assert element_widget(picker).string_value == "Dense VAE (2-D)"
    picker.selectbox.set_value = False  # drawn again without a value: the browser keeps its own
    assert element_widget(picker, known=True) is None
    assert element_widget(picker).string_value == "Conv VAE (2-D)"  # a new one starts at its default
    epochs = Element()
    epochs.number_input.id = "$$ID-e-train_epochs"
    epochs.number_input.default = 1
    epochs.number_input.value = 5
    epochs.number_input.set_value = True
    assert element_widget(epochs).int_value == 5
    rate = Element()
    rate.number_input.id = "$$ID-r-train_lr"
    rate.number_input.data_type = rate.number_input.DataType.Value("FLOAT")
    rate.number_input.default = 0.001
    assert element_widget(rate).double_value == pytest.approx(0.001)
    box = Element()
    box.checkbox.id = "$$ID-c-train_batch_norm"
    box.checkbox.set_value = True
    assert element_widget(box).bool_value is False
    text = Element()
    text.markdown.body = "hello"
    assert element_widget(text) is None
    assert user_key(PLANE_ID) == "explore_plane_dense_vae_2d"


def test_the_message_cache_resolves_references_and_forgets_old_messages() -> None:
    cache = MessageCache()
    chart = ForwardMsg(hash="abc")
    chart.metadata.cacheable = True
    chart.delta.new_element.markdown.body = "a big chart"
    payload = chart.SerializeToString()
    assert cache.process(chart, payload) is chart and cache.hashes() == ["abc"]
    reference = ForwardMsg(ref_hash="abc")
    reference.metadata.delta_path.extend([0, 3])
    resolved = cache.process(reference, reference.SerializeToString())
    assert resolved.delta.new_element.markdown.body == "a big chart"
    assert list(resolved.metadata.delta_path) == [0, 3]
    for _ in range(3):
        cache.finished_run(max_age=2, fragment_ids=())
    assert cache.hashes() == []
    with pytest.raises(KeyError):
        cache.process(reference, b"")


def test_packed_arrays_are_read_as_the_plane_reads_them() -> None:
    points = np.arange(12, dtype="<f4").reshape(6, 2)
    header = json.dumps({"arrays": {"points": {"offset": 0, "dtype": "<f4", "shape": [6, 2]}}}).encode()
    header += b" " * (-(4 + 4 + len(header)) % 8)
    blob = MAGIC + struct.pack("<I", len(header)) + header + points.tobytes()
    assert MAGIC == PACK_MAGIC
    _, arrays = read_packed_arrays(blob)
    np.testing.assert_array_equal(arrays["points"], points)
