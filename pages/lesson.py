"""Lesson: a short guided tour for a class, one prepared view per step."""

from __future__ import annotations

import streamlit as st

from app.classroom.lesson import STEPS, open_step, step_params
from app.shell import page

page.require_model()
st.title("A lesson on latent spaces")
st.caption(
    "Seven short steps to go through in front of a class (presenter mode makes everything large). Each opens a "
    "prepared view with a few sentences to read out; nothing needs typing."
)
if st.button("Start the lesson", key="lesson_start", type="primary", icon=":material/play_arrow:"):
    open_step(1)
for number, step in enumerate(STEPS, start=1):
    with st.container(border=True):
        st.markdown(f"**{number}. {step.title}**  \n{step.text}")
        st.page_link(step.page, label=f"Open step {number}", query_params=step_params(number),
                     icon=":material/arrow_forward:")  # fmt: skip
