"""The teacher's hold on the training queue: with the server's teacher password, a session may stop
or remove any job, whoever submitted it (see app.settings for setting the password)."""

from __future__ import annotations

import hmac

import streamlit as st

from app.jobs.queue import JobQueue
from app.jobs.snapshot import JobSnapshot
from app.settings import server_settings
from app.widgets import markdown

TEACHER_KEY = "teacher_unlocked"


def is_teacher() -> bool:
    return bool(st.session_state.get(TEACHER_KEY))


def teacher_controls(queue: JobQueue, owner: str) -> None:
    """For the teacher: every job in the queue with a way to stop it; for anyone else, the way in."""
    with st.expander("For the teacher: stop or remove any job", expanded=is_teacher()):
        if is_teacher():
            _every_job(queue, owner)
        elif not server_settings().teacher_password:
            st.caption("No teacher password was set for this server. Start it with "
                       "`streamlit run streamlit_app.py -- --teacher-password '…'` to let the teacher "
                       "stop or remove anyone's job.")  # fmt: skip
        else:
            with st.form("teacher_unlock", border=False):
                st.text_input("Teacher password", type="password", key="teacher_password")
                st.form_submit_button("Unlock", on_click=_unlock)
            if st.session_state.get("teacher_refused"):
                st.error("That is not the teacher password.")


def _unlock() -> None:
    typed = st.session_state.pop("teacher_password", "")
    right = hmac.compare_digest(typed.encode(), server_settings().teacher_password.encode())
    st.session_state[TEACHER_KEY] = right
    st.session_state["teacher_refused"] = not right


def _every_job(queue: JobQueue, owner: str) -> None:
    running, waiting = queue.running(), queue.waiting()
    if running is None and not waiting:
        st.caption("The queue is empty.")
    for job in ([running] if running else []) + waiting:
        _job_row(queue, job, owner)


def _job_row(queue: JobQueue, job: JobSnapshot, owner: str) -> None:
    where = "training now" if job.position is None else f"place {job.position} in the queue"
    whose = "yours" if job.owner == owner else f"from {markdown.escape(job.client)}"
    text, button = st.columns([4, 1], vertical_alignment="center")
    text.markdown(f"**{markdown.escape(job.spec.title)}** ({whose}), {where}")
    label = "Stop" if job.position is None else "Remove"
    button.button(label, key=f"teacher_stop_{job.id}", on_click=queue.stop, args=(job.id, owner, True),
                  disabled=job.stopping)  # fmt: skip
