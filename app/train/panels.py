"""What the Train page shows about a job: progress, loss curves, the forming latent space, replay.

Everything is drawn from a `JobSnapshot` (an immutable snapshot from the queue), so the
polling fragment can redraw it every second without touching the training thread.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from app.jobs.snapshot import JobSnapshot, JobState
from app.widgets import markdown
from app.widgets.images import upscale
from app.widgets.palette import DIGIT_COLORS
from app.widgets.pictures import labels, picture
from models.files.images import tile
from models.geometry.plane import Bounds, plot_view
from models.training.budget import describe_seconds
from models.training.events import StepProgress
from models.training.replay import Replay

LOSS_COLORS = {"total": "#000000", "reconstruction": "#1f77b4", "kl": "#d62728", "penalty": "#2ca02c"}


def describe_duration(seconds: float | None) -> str:
    """A duration as the page says it ("…" while unknown): in hours past 90 minutes, days past 2 days."""
    return "…" if seconds is None else describe_seconds(seconds)


def where_it_trains(progress: StepProgress) -> str:
    """How the progress names where a job trains, and whether it computes in bfloat16."""
    device = {"cuda": "the GPU (CUDA)", "mps": "the GPU (Apple MPS)"}.get(progress.device, "the CPU")
    return f"{device} in bfloat16" if progress.precision == "bfloat16" else device


def progress_section(job: JobSnapshot) -> None:
    """Progress bar with epoch, step, images/s and time left; the final message when done."""
    progress = job.progress
    if job.state is JobState.QUEUED:
        st.info(f"Waiting: place {job.position} in the queue. Training starts when the jobs before it end.")
        return
    if progress is not None:
        timing = (
            f"time left {describe_duration(job.eta)}" if job.active
            else f"took {describe_duration(job.took if job.took is not None else progress.elapsed)}"
        )
        text = (
            f"Epoch {progress.epoch}/{job.spec.training.epochs} · step {progress.step}/{progress.steps_per_epoch} · "
            f"{progress.images_per_s:,.0f} images/s on {where_it_trains(progress)} · {timing}"
        )
        st.progress(progress.global_step / max(progress.total_steps, 1), text=text)
    elif job.active:
        st.progress(0.0, text="Loading data and building the model…")
    if job.stopping:
        st.warning("Stopping after the current step…")
    if not job.active:
        box = {JobState.FINISHED: st.success, JobState.STOPPED: st.info, JobState.DIVERGED: st.error,
               JobState.FAILED: st.error, JobState.ABANDONED: st.warning}[job.state]  # fmt: skip
        box(job.message)


def loss_figure(job: JobSnapshot) -> go.Figure:
    """Per-step training losses (thinned) as lines, per-epoch test losses as diamonds.

    Reconstruction and total (hundreds of nats) use the left axis; KL and penalties (a few
    nats) the right one, so both stay readable.
    """
    figure = go.Figure()
    steps_per_epoch = job.progress.steps_per_epoch if job.progress else 1
    x = np.asarray(job.curve.steps, dtype=float) / steps_per_epoch
    small = {"kl", "penalty"}
    for name, values in job.curve.losses.items():
        if name in small and not any(values):
            continue  # no KL for plain autoencoders, no penalty for plain training
        figure.add_trace(go.Scatter(x=x, y=values, mode="lines", name=f"train {name}", yaxis="y2" if name in small
                                    else "y", line={"color": LOSS_COLORS.get(name), "width": 1.5}))  # fmt: skip
    for name in ("total", "reconstruction", "kl"):
        values = [getattr(epoch.test, name) for epoch in job.epochs]
        if values and (name != "kl" or any(values)):
            figure.add_trace(go.Scatter(x=[e.epoch for e in job.epochs], y=values, mode="markers",
                                        name=f"test {name}", yaxis="y2" if name in small else "y",
                                        marker={"size": 11, "symbol": "diamond", "color": LOSS_COLORS[name],
                                                "line": {"width": 1, "color": "#ffffff"}}))  # fmt: skip
    figure.update_layout(
        height=360, margin={"l": 10, "r": 10, "t": 10, "b": 10}, font={"size": 14},
        xaxis={"title": "epoch", "rangemode": "tozero"},
        yaxis={"title": "reconstruction, total (per image)"},
        yaxis2={"title": "KL, penalty", "overlaying": "y", "side": "right", "showgrid": False, "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.2},
    )  # fmt: skip
    return figure


def replay_points(replay: Replay) -> tuple[list[np.ndarray], Bounds]:
    """2-D positions of the replay sample for every epoch, on the last epoch's plane, and its ranges."""
    view = plot_view(replay.frames[-1].codes)
    return [view.plane.project(frame.codes).numpy() for frame in replay.frames], view.bounds


def latent_snapshot_figure(replay: Replay, epoch_index: int = -1, animate: bool = False) -> go.Figure:
    """The replay sample's latent codes at one epoch; with `animate`, every epoch as frames + play."""
    frames, ((x0, x1), (y0, y1)) = replay_points(replay)
    labels = replay.labels.numpy()
    epochs = [frame.epoch for frame in replay.frames]

    def traces(points: np.ndarray) -> list[go.Scatter]:  # one trace per digit, as on the other pages
        marker = {"size": 5, "opacity": 0.8}
        return [
            go.Scatter(x=points[labels == d, 0], y=points[labels == d, 1], mode="markers", name=str(d),
                       marker={**marker, "color": DIGIT_COLORS[d]})
            for d in range(10)
        ]  # fmt: skip

    shown = epoch_index % len(frames)
    figure = go.Figure(data=traces(frames[shown]))
    layout = {
        "height": 480, "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "font": {"size": 14},
        "xaxis": {"range": [x0, x1], "zeroline": False}, "yaxis": {"range": [y0, y1], "zeroline": False},
        "title": {"text": f"epoch {epochs[shown]}", "x": 0.5}, "legend": {"title": {"text": "digit"}},
        "uirevision": "replay",
    }  # fmt: skip
    if animate and len(frames) > 1:
        # The epoch is shown by the slider itself (its current value), so the label and the
        # handle can never disagree while the animation plays.
        figure.frames = [go.Frame(data=traces(points), name=str(epoch))
                         for epoch, points in zip(epochs, frames, strict=True)]  # fmt: skip
        step = {"mode": "immediate", "frame": {"duration": 700, "redraw": True}, "transition": {"duration": 0}}
        layout["title"] = None  # the slider's label names the epoch shown
        layout["updatemenus"] = [
            {
                "type": "buttons", "x": 0, "y": 0, "xanchor": "left", "yanchor": "top", "pad": {"t": 48, "r": 0},
                "showactive": False,
                "buttons": [{"label": "▶ Play", "method": "animate", "args": [None, step]}],
            }
        ]  # fmt: skip
        # The slider starts a fixed number of pixels right of the button (pad.l), at any width.
        layout["sliders"] = [{"active": shown, "x": 0, "len": 1, "y": 0, "yanchor": "top",
                              "pad": {"l": 90, "t": 30}, "currentvalue": {"prefix": "epoch ", "xanchor": "left"},
                              "steps": [{"label": str(e), "method": "animate", "args": [[str(e)], step]}
                                        for e in epochs]}]  # fmt: skip
        layout["margin"]["b"] = 110
        layout["height"] = 590
    figure.update_layout(**layout)
    return figure


def reconstructions_section(replay: Replay) -> None:
    """The fixed test digits and their reconstructions after the latest epoch."""
    latest = replay.frames[-1]
    both = torch.cat([replay.digits, latest.reconstructions])
    alt = (f"{len(replay.digits)} test digits ({labels(replay.digit_labels.tolist())}) above their reconstructions "
           f"after epoch {latest.epoch}")  # fmt: skip
    picture(upscale(tile(both, columns=len(replay.digits), gap=2), 3), alt,
            caption=f"top: test digits · bottom: reconstructions after epoch {latest.epoch}")  # fmt: skip


def queue_overview(running: JobSnapshot | None, waiting: list[JobSnapshot], owner: str) -> None:
    """What the server is training now, for everyone, and how many jobs wait."""
    if running is None and not waiting:
        st.caption("The training queue is empty: a new job starts at once.")
        return
    parts = []
    if running is not None:
        whose = "yours" if running.owner == owner else "another session's"
        epoch = f", epoch {running.progress.epoch}/{running.spec.training.epochs}" if running.progress else ""
        parts.append(f"Now training: **{markdown.escape(running.spec.title)}** ({whose}{epoch})")
    if waiting:
        mine = [job.position for job in waiting if job.owner == owner]
        parts.append(f"{len(waiting)} waiting" + (f" (yours at place {', '.join(map(str, mine))})" if mine else ""))
    st.info(" · ".join(parts) + ". One job trains at a time, so the app stays responsive for everyone.")
