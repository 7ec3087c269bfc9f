"""Train: build a model, train it in the background, and watch its latent space form."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from app.jobs.admission import folder_bytes
from app.jobs.queue import HEARTBEAT_SECONDS, get_queue
from app.jobs.snapshot import JobSnapshot
from app.jobs.spec import NameTakenError
from app.shell import page
from app.shell.session import client_id, ensure_shell, owner_id
from app.shell.sidebar import MODEL_KEY
from app.space.test_set import test_data
from app.train.fields import field_key
from app.train.form import model_form, save_copy_form, spec_from_state
from app.train.panels import (
    latent_snapshot_figure,
    loss_figure,
    progress_section,
    queue_overview,
    reconstructions_section,
)
from app.train.replay_gif import replay_gif
from app.train.teacher import teacher_controls
from app.widgets import markdown
from models.files.data import DEFAULT_DATASET
from models.files.store import first_free_name
from models.training.budget import describe_bytes, describe_seconds

JOB_KEY = "train_job"
SUGGESTED_KEY = "train_name_suggested"  # (job id, the name it was given, the name suggested for the next run)

ensure_shell()
queue = get_queue()
owner = owner_id()
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
    try:
        spec = spec_from_state()
        job_id = queue.submit(spec, owner, client_id()).id
    except (ValueError, RuntimeError) as error:
        st.session_state["train_submit_error"] = str(error)
        return
    st.session_state[JOB_KEY] = job_id
    # Suggest a free name for the next run; restore_unused_name gives the name back if this run saves nothing.
    typed = st.session_state[field_key("name")]
    suggestion = first_free_name(queue.checkpoint_dir, spec.save_name, after=True)
    st.session_state[field_key("name")] = suggestion
    st.session_state[SUGGESTED_KEY] = (job_id, typed, suggestion)
    st.session_state[field_key("overwrite")] = False


def restore_unused_name() -> None:
    """A run that ended without saving anything did not use its name: put it back in the field."""
    suggested = st.session_state.get(SUGGESTED_KEY)
    if suggested is None:
        return
    job_id, original, suggestion = suggested
    job = queue.get(job_id)
    if job is None or job.active:
        return
    del st.session_state[SUGGESTED_KEY]
    if job.checkpoint is None and st.session_state.get(field_key("name")) == suggestion:
        st.session_state[field_key("name")] = original


def replay_figure(job: JobSnapshot, animate: bool) -> go.Figure:
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
    st.subheader(markdown.escape(job.spec.title))
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
            if animate:
                replay = job.replay
                st.download_button("Download the replay as a GIF", data=lambda: replay_gif(replay),
                                   file_name=f"{job.spec.save_name}_replay.gif", mime="image/gif",
                                   key=f"{keys}_gif", on_click="ignore", icon=":material/download:",
                                   help="An animation of every epoch, for slides: made when you press it.")  # fmt: skip
    if not job.active and job.checkpoint is not None and job.owner == owner:
        save_copy_form(queue, job, owner, keys)
    if not job.active and job.checkpoint is not None:
        path = str(job.checkpoint.resolve())
        if st.button("Explore this model", key=f"{keys}_explore", on_click=open_in_explorer, args=(path,)):
            st.switch_page("pages/explore.py")


# Each poll redraws the charts and sends the heartbeat: often enough to feel live, rare enough
# to leave the CPU to training.
@st.fragment(run_every=HEARTBEAT_SECONDS)
def live_job(job_id: str) -> None:
    """Redrawn every HEARTBEAT_SECONDS while the job waits or trains; one full rerun when it ends."""
    queue.heartbeat(owner)
    job_panel(job_id, "train_live")
    job = queue.get(job_id)
    if job is None or not job.active:
        st.rerun()


def new_run_form() -> None:
    """The builder, the name it will be saved as, and Start (off while the settings cannot run)."""
    model_form()
    ready = False
    try:
        spec, cost = queue.validate(spec_from_state(), owner)
        used, room = describe_bytes(folder_bytes(queue.checkpoint_dir)), describe_bytes(queue.limits.folder_bytes)
        st.caption(f"It will be saved as **{markdown.escape(spec.save_name)}** and shown as "
                   f"**{markdown.escape(spec.title)}** in the model picker. It should train for about "
                   f"{describe_seconds(cost.seconds)} on this server. The models trained here take {used} of the "
                   f"{room} this server allows.")  # fmt: skip
        ready = True
    except NameTakenError as error:
        (st.warning if error.replaceable else st.error)(str(error))
        if error.replaceable:
            st.checkbox("Replace my saved model with that name", key=field_key("overwrite"))
    except ValueError as error:
        st.error(str(error))
    data = test_data(DEFAULT_DATASET)
    if data.split is None:  # training needs the data: say why Start is off, here rather than after a failed job
        page.data_unavailable_notice(data, "Training needs it, so Start is off until it is there.")
        ready = False
    if error := st.session_state.pop("train_submit_error", None):
        st.error(error)
    st.button("Start training", key="train_start", type="primary", disabled=not ready, on_click=start)


restore_unused_name()
# This tab's latest run: the one it started, or after a reload of the tab, the newest it owns.
mine = queue.jobs_for(owner)
job_id = st.session_state.get(JOB_KEY) or (mine[-1].id if mine else None)
current = queue.get(job_id) if job_id else None
# This session's latest run comes first (its live view above the fold on a projector); the builder
# follows, folded while the run trains and still one click away to queue another.
if current is None:
    new_run_form()
else:
    if current.active:
        live_job(current.id)
    else:
        job_panel(current.id, "train_done")
    with st.expander("Set up another run", expanded=not current.active):
        new_run_form()
teacher_controls(queue, owner)
