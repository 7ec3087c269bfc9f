"""Entry point: `streamlit run streamlit_app.py`. Page config, navigation and the shared sidebar."""

from __future__ import annotations

import streamlit as st

from app.plane.preload import preload_plane_assets
from app.widgets.palette import favicon

st.set_page_config(page_title="Latent space explorer", page_icon=favicon(), layout="wide")
# Before the rest of the app is imported: on a fresh server, the browser fetches and compiles
# plotly.js while this process imports torch (about 1.3 s) and encodes the test set.
preload_plane_assets()

from app.classroom import url_state  # noqa: E402 (after the preloader, on purpose)
from app.classroom.copy_link import copy_link_button  # noqa: E402
from app.classroom.lesson import lesson_banner  # noqa: E402
from app.classroom.presenter import presenter_controls  # noqa: E402
from app.settings import server_settings  # noqa: E402
from app.shell.guard import check_widget_states  # noqa: E402
from app.shell.session import learn_tab_token  # noqa: E402
from app.shell.sidebar import model_picker, training_status  # noqa: E402
from app.shell.style import shared_style  # noqa: E402
from models.training.runtime import configure_torch  # noqa: E402

# One torch thread: tiny models decode fastest that way on small machines, and a training
# job in the background keeps the other core.
configure_torch(1)
check_widget_states()  # forged widget values are dropped before Streamlit reads them

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
try:
    server_settings()
except ValueError as error:  # a malformed option on the server's command line or in its environment
    st.error(f"The server's settings are not valid: {error}. Start it again with a valid value.")
    st.stop()
learn_tab_token()
shared_style()
url_state.check_unknown()
model_picker()
training_status()
presenter_controls()
lesson_banner()
navigation.run()
with st.sidebar:
    copy_link_button()
    url_state.show_notices()
