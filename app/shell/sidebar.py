"""The sidebar shared by every page: the model picker, the selected model's card, and the
status of this session's training jobs."""

from __future__ import annotations

import streamlit as st

from app.classroom import url_state
from app.jobs.queue import HEARTBEAT_SECONDS, get_queue
from app.shell.session import owner_id
from app.space.catalogue import CheckpointEntry, catalogue, default_entry, named
from app.widgets import markdown
from models.families.registry import family_title, is_variational
from models.text import count_of

MODEL_KEY = "model_path"  # session-state key of the picker (the checkpoint's path)


def entry_label(entry: CheckpointEntry, mine: set[str] = frozenset()) -> str:
    """The picker's text: lesson, title, latent size, and whose model it is (plain text, not markdown)."""
    owner = "" if entry.shipped else " · yours" if entry.ref.name.lower() in mine else " · trained by a user"
    lesson = f"{entry.info.lesson} › " if entry.info.lesson else ""
    return f"{lesson}{entry.info.title or entry.ref.name} ({entry.info.config.latent_dim}-D){owner}"


def model_picker() -> CheckpointEntry | None:
    """Draw the picker in the sidebar and return the chosen checkpoint (None if there is none)."""
    found = catalogue()
    st.sidebar.header("Model")
    for problem in found.problems:
        st.sidebar.warning(f"Skipped {markdown.escape(problem)}")
    if not found.entries:
        st.sidebar.error(
            "No checkpoints found in `checkpoints/`. Train one with "
            "`python -m models.train --preset dense_vae_2d` or on the Train page."
        )
        return None
    by_path = {entry.ref.path: entry for entry in found.entries}
    if (wanted := url_state.incoming("model")) is not None:  # a link names a model: by name, never a path
        chosen = named(found.entries, wanted)
        if chosen is None:
            url_state.notice("model", wanted)
        else:
            st.session_state[MODEL_KEY] = chosen.ref.path
    if st.session_state.get(MODEL_KEY) not in by_path:
        st.session_state[MODEL_KEY] = default_entry(found.entries).ref.path
    mine = get_queue().saved_by(owner_id())
    path = st.sidebar.selectbox(
        "Checkpoint", list(by_path), key=MODEL_KEY, format_func=lambda p: entry_label(by_path[p], mine),
        label_visibility="collapsed",
    )  # fmt: skip
    entry = by_path[path]
    url_state.write({"model": entry.ref.name})
    model_card(entry)
    return entry


def model_card(entry: CheckpointEntry) -> None:
    info = entry.info
    metrics = info.metrics
    objective = info.config.objective
    beta = f", beta {objective.beta:g}" if objective.beta != 1 and is_variational(info.model) else ""
    lines = [
        f"**{family_title(info.model)}**, {info.config.latent_dim}-D latent, "
        f"{objective.variant} training{beta}, {count_of(info.epochs, 'epoch')} on {info.dataset}",
    ]
    parts = []  # whichever test metrics the checkpoint has (the catalogue checked that they are numbers)
    if metrics.get("knn_accuracy") is not None:
        parts.append(f"k-NN accuracy **{metrics['knn_accuracy']:.1%}**")
    if metrics.get("reconstruction") is not None:
        parts.append(f"reconstruction {metrics['reconstruction']:.1f}")
    if metrics.get("elbo") is not None:
        parts.append(f"ELBO {metrics['elbo']:.1f} nats")
    if parts:
        lines.append("Test set: " + ", ".join(parts))
    st.sidebar.markdown("  \n".join(lines))
    if info.description:
        lesson = f"**{markdown.escape(info.lesson)}**: " if info.lesson else ""
        st.sidebar.caption(lesson + markdown.escape(info.description))


def training_status() -> None:
    """While this session has a job waiting or training, show it and keep it alive from every page.

    A job whose session sends no heartbeat for a while is abandoned (the tab was closed), so
    the heartbeat must come from whichever page is open, not only from the Train page.
    """
    owner = owner_id()
    if any(job.active for job in get_queue().jobs_for(owner)):
        with st.sidebar:
            _job_heartbeat(owner)


@st.fragment(run_every=HEARTBEAT_SECONDS)
def _job_heartbeat(owner: str) -> None:
    queue = get_queue()
    queue.heartbeat(owner)
    for job in queue.jobs_for(owner):
        if job.position is not None:
            title = markdown.escape(job.spec.title)
            st.caption(f":material/hourglass_top: **{title}**: place {job.position} in the training queue")
        elif job.active and job.progress is not None:
            done = job.progress.global_step / max(job.progress.total_steps, 1)
            epoch = f"epoch {job.progress.epoch}/{job.spec.training.epochs}"
            st.caption(f":material/model_training: **{markdown.escape(job.spec.title)}**: {epoch} ({done:.0%})")


def current_entry() -> CheckpointEntry | None:
    """The checkpoint chosen in the sidebar (the default one if the picker has not run)."""
    found = catalogue()
    by_path = {entry.ref.path: entry for entry in found.entries}
    return by_path.get(st.session_state.get(MODEL_KEY, "")) or default_entry(found.entries)
