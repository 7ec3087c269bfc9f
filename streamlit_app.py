"""Entry point: `streamlit run streamlit_app.py`. Page config, navigation and the shared sidebar."""

from __future__ import annotations

import streamlit as st

from app import url_state
from app.copy_link import copy_link_button
from app.images import favicon
from app.lesson import lesson_banner
from app.palette import DIGIT_COLORS
from app.plane import preload_plane_assets
from app.presenter import presenter_controls
from app.sidebar import model_picker, training_status
from app.style import shared_style
from models.engine import configure_torch

st.set_page_config(page_title="Latent space explorer", page_icon=favicon(DIGIT_COLORS), layout="wide")
# One torch thread: tiny models decode fastest that way on small machines, and a training
# job in the background keeps the other core.
configure_torch(1)

pages = [
    st.Page("pages/explore.py", title="Explore", icon=":material/scatter_plot:", default=True),
    st.Page("pages/interpolate.py", title="Interpolate", icon=":material/linear_scale:"),
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:"),
    st.Page("pages/sample.py", title="Sample", icon=":material/casino:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("pages/lesson.py", title="Lesson", icon=":material/school:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
]
navigation = st.navigation(pages)
shared_style()
preload_plane_assets()
url_state.check_unknown()
model_picker()
training_status()
presenter_controls()
lesson_banner()
navigation.run()
with st.sidebar:
    copy_link_button()
    url_state.show_notices()
