"""The latent plane component: what a page asks it to draw, and the clicks it reports.

The browser does the interaction (app/plane/js/): the scatter, decoding under the pointer with
the model's own decoder, click-anywhere selection and what each mode draws. Python sends it small
messages (the mode, see app.plane.modes) and the URLs of large files it fetches once and caches
(plotly.js, the decoder with the test codes, the test images; see app.plane.published). A click
comes back as a `PlaneClick`, checked like any input.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import streamlit as st

from app.classroom import presenter, url_state
from app.classroom.presenter import presenting
from app.plane.modes import PlaneMode, mode_data
from app.plane.preload import as_component_data, asset_urls
from app.plane.published import model_asset_url, test_images_url
from app.space.catalogue import ModelRef, load_model
from app.space.latent_space import latent_space
from app.widgets import markdown
from app.widgets.palette import DIGIT_COLORS
from models.files.claims import held
from models.text import describe_error

PLOT_HEIGHT = 600
MARKER_SIZE = 5
FONT_SIZE = 14

_LOADER = """
export default function (component) {
  const data = JSON.parse(component.data.json);
  const plane = { ...component, data };
  import(new URL(data.assets.plane, document.baseURI).href).then((module) => module.render(plane));
}
"""

_component = st.components.v2.component("latent_explorer.latent_plane", js=_LOADER, isolate_styles=False)


class PlaneClick(NamedTuple):
    """A click on the plane, as the browser reported it (validated)."""

    x: float | None  # plot coordinates; None when a double click undid the selection
    y: float | None
    index: int | None  # the test image clicked, if any
    seq: int  # clicks counted by the page; a higher one is newer
    undo: bool  # this click undoes the previous one (the first half of a double click)


def parse_click(value: Any, count: int) -> PlaneClick | None:
    """The click in a component state value, or None if it is not a well-formed one."""
    if not isinstance(value, dict):
        return None
    seq, undo, index = value.get("seq"), bool(value.get("undo")), value.get("index")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        return None
    x, y = value.get("x"), value.get("y")
    if x is None and y is None and undo:
        return PlaneClick(None, None, None, seq, True)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (x, y)):
        return None
    if index is not None and (isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count):
        return None
    return PlaneClick(float(x), float(y), index, seq, undo)


def latent_plane(
    ref: ModelRef,
    mode: PlaneMode,
    *,
    key: str,
    on_click: Callable[[PlaneClick], None] | None = None,
    link_group: str | None = None,
) -> None:
    """Draw the plane of `ref`'s latent space in `mode` (see app.plane.modes), and call `on_click`
    with each new valid click. Planes of one `link_group` on a page follow each other (Compare).

    A model still training is not drawn (its files would be published again at every epoch), and
    neither is any model while the server cannot write the files browsers fetch: the page says why.
    """
    info = load_model(ref).info
    if held(Path(ref.path)):
        st.info(f"**{markdown.escape(info.title or ref.name)}** is still training: its plane is drawn when the run "
                f"ends, and the Train page shows it forming meanwhile.")  # fmt: skip
        return
    space = latent_space(ref)
    try:
        urls = asset_urls(), model_asset_url(ref, space.has_data), space.has_data and test_images_url(info.dataset)
    except OSError as error:
        st.warning(f"The plane cannot be drawn: the server could not write the files browsers fetch "
                   f"({describe_error(error)}). The teacher can free space on the server's disk.")  # fmt: skip
        return
    assets, model_url, images_url = urls
    data = {
        "assets": assets,
        "model": {"url": model_url, "key": f"{ref.path}:{ref.mtime_ns}"},
        "images": images_url or None,
        "mode": mode_data(mode),
        "link_group": link_group,
        "height": PLOT_HEIGHT,
        "fill_height": presenting(),  # presenter mode: as tall as the window allows
        "marker_size": presenter.MARKER_SIZE if presenting() else MARKER_SIZE,
        "font_size": presenter.FONT_SIZE if presenting() else FONT_SIZE,
        "wide_panel": presenting(),
        "bounds": [list(axis) for axis in space.bounds],
        "axis_titles": ["PC 1", "PC 2"] if space.projected else ["z₁", "z₂"],
        "colors": list(DIGIT_COLORS),
        "backdrop": False,
        "url": browser_state_in_url(),
    }

    def clicked() -> None:
        click = parse_click(st.session_state.get(key, {}).get("click"), space.size)
        if click is not None and on_click is not None:
            on_click(click)

    _component(data=as_component_data(data), key=key, on_click_change=clicked)


def browser_state_in_url() -> dict[str, Any]:
    """What the plane keeps in the URL itself (zoom, hidden digits, backdrop, t), checked here, so a
    shared link opens the same view; the plane ignores it after it has mounted. `names` tells the
    browser which parameter holds which (url_state's table)."""
    names = url_state.BROWSER_KEPT
    return {
        "names": names,
        "view": url_state.parse(names["view"], _view),
        "hide": url_state.parse(names["hide"], _digits),
        "backdrop": url_state.parse(names["backdrop"], url_state.flag),
        "opacity": url_state.parse(names["opacity"], url_state.number(0.0, 1.0)),
        "t": url_state.parse(names["t"], url_state.number(0, 1)),
    }


def _view(raw: str) -> dict[str, list[float]]:
    x0, x1, y0, y1 = (url_state.number(-1e6, 1e6)(part) for part in raw.split(","))
    if not (x1 > x0 and y1 > y0):
        raise ValueError(raw)
    return {"x": [x0, x1], "y": [y0, y1]}


def _digits(raw: str) -> list[int]:
    return sorted({url_state.whole(0, 9)(part) for part in raw.split(",") if part}) if raw else []
