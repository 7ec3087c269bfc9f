"""Train: build a model, train it in the background, and watch its latent space form."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from app.jobs import JobView, get_queue
from app.shell import ensure_shell, session_id
from app.sidebar import MODEL_KEY
from app.train_form import model_form, next_free_name, save_copy_form, spec_from_state
from app.train_view import (
    latent_snapshot_figure,
    loss_figure,
    progress_section,
    queue_overview,
    reconstructions_section,
)

POLL_SECONDS = 2.0  # each poll redraws the charts: often enough to feel live, rare enough to leave the CPU to training
JOB_KEY = "train_job"

ensure_shell()
queue = get_queue()
owner = session_id()
queue.heartbeat(owner)

st.title("Train a model")
st.caption(
    "Training runs on the server in the background: switch pages, keep exploring, or let other people use the "
    "app meanwhile. Every epoch is saved and appears in the model picker at once."
)
queue_overview(queue.running(), queue.waiting(), owner)


def start() -> None:
    """Button callback (runs before the next script run, so it may reset the name field).

    It reads the fields afresh: a name typed just before the click counts, even though the
    button was drawn before it was typed.
    """
    spec = spec_from_state()
    if isinstance(spec, str):
        st.session_state["train_submit_error"] = spec
        return
    try:
        st.session_state[JOB_KEY] = queue.submit(spec, owner).id
        st.session_state["train_name"] = next_free_name(spec.save_name, queue.checkpoint_dir)
        st.session_state["train_overwrite"] = False
    except (ValueError, RuntimeError) as error:
        st.session_state["train_submit_error"] = str(error)


spec = model_form()
if isinstance(spec, str):
    st.error(spec)
else:
    try:
        spec = queue.validate(spec)
    except ValueError as error:
        exists = "already exists" in str(error)
        (st.warning if exists else st.error)(str(error))
        if exists:
            st.checkbox("Overwrite my saved model with that name", key="train_overwrite")
        spec = str(error)
if error := st.session_state.pop("train_submit_error", None):
    st.error(error)
st.button("Start training", key="train_start", type="primary", disabled=isinstance(spec, str), on_click=start)


def replay_figure(job: JobView, animate: bool) -> go.Figure:
    """The latent snapshot, rebuilt only when a new epoch arrives (not on every poll)."""
    key = (job.id, len(job.replay.frames), animate)
    cached = st.session_state.get("_train_replay_figure")
    if cached is None or cached[0] != key:
        cached = (key, latent_snapshot_figure(job.replay, animate=animate))
        st.session_state["_train_replay_figure"] = cached
    return cached[1]


def open_in_explorer(path: str) -> None:
    st.session_state[MODEL_KEY] = path


def job_panel(job_id: str, keys: str) -> None:
    """The job's progress, curves and latent space; `keys` keeps the live and final views' widget keys apart."""
    job = queue.get(job_id)
    if job is None:
        return
    st.subheader(f"{job.spec.title}")
    progress_section(job)
    stop_help = "Ends after the current step; completed epochs stay saved."
    if job.active and st.button("Stop", key=f"{keys}_stop", help=stop_help):
        queue.stop(job.id, owner)
    loss_column, latent_column = st.columns(2, gap="large")
    with loss_column:
        if job.curve.steps:
            st.plotly_chart(loss_figure(job), key=f"{keys}_losses", width="stretch")
        if job.replay is not None:
            reconstructions_section(job.replay)
    with latent_column:
        if job.replay is not None:
            animate = not job.active and len(job.replay.frames) > 1
            if animate:
                st.markdown("**Replay**: press ▶ or drag the epoch slider to watch the clusters form.")
            st.plotly_chart(replay_figure(job, animate), key=f"{keys}_latent", width="stretch")
    if not job.active and job.checkpoint is not None and job.owner == owner:
        save_copy_form(queue, job, owner, keys)
    if not job.active and job.checkpoint is not None:
        path = str(job.checkpoint.resolve())
        if st.button("Explore this model", key=f"{keys}_explore", on_click=open_in_explorer, args=(path,)):
            st.switch_page("pages/explore.py")


@st.fragment(run_every=POLL_SECONDS)
def live_job(job_id: str) -> None:
    """Redrawn every second while the job waits or trains; one full rerun when it ends."""
    queue.heartbeat(owner)
    job_panel(job_id, "train_live")
    job = queue.get(job_id)
    if job is None or not job.active:
        st.rerun()


job_id = st.session_state.get(JOB_KEY)
current = queue.get(job_id) if job_id else None
if current is not None and current.active:
    live_job(current.id)
elif current is not None:
    job_panel(current.id, "train_done")
