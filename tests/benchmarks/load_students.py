"""The load test's students: the Explore page's plane they click, their clicking, and the tally of the answers."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import numpy as np

from tools.streamlit_client import BrowserSession
from tools.streamlit_messages import RunResult, fetch_bytes, read_packed_arrays, user_key

SLOW, FAST = (1.5, 4.5), (0.2, 0.6)  # seconds a student thinks between clicks
EMPTY_SPOT_SHARE = 0.2  # clicks on an empty spot of the plane (no test image), the rest on a dot


# --- the Explore page -------------------------------------------------------------------------


@dataclass
class Plane:
    """What the students need from the Explore page: the plane's key, its bounds and test points."""

    key: str
    points: np.ndarray  # (N, 2) float32, the test images on the plane
    bounds: list[list[float]]

    def click(self, rng: random.Random, seq: int) -> dict:
        """A click as the plane reports it."""
        if rng.random() < EMPTY_SPOT_SHARE:
            x, y = (rng.uniform(*self.bounds[0]), rng.uniform(*self.bounds[1]))
            index = None
        else:
            index = rng.randrange(len(self.points))
            x, y = float(self.points[index, 0]), float(self.points[index, 1])
        return {"x": x, "y": y, "index": index, "seq": seq, "undo": False}

    def shows(self, session: BrowserSession, seq: int) -> bool:
        """Whether the page's last run gave the plane click `seq` as its selection (the browser
        draws the selection's details from it; the server recorded it for the URL)."""
        selected = session.component_data(self.key).get("mode", {}).get("selected") or {}
        return selected.get("seq") == seq


def find_plane(session: BrowserSession) -> Plane:
    """The plane on an opened Explore page, and its test points fetched as the browser fetches them."""
    key = next(k for k in map(user_key, session.elements) if k.startswith("explore_plane_"))
    data = session.component_data(key)
    _, arrays = read_packed_arrays(fetch_bytes(session.base_url, data["model"]["url"]))
    return Plane(key, np.asarray(arrays["points"]), data["bounds"])


# --- students -----------------------------------------------------------------------------------


@dataclass
class Tally:
    """Results of one phase."""

    times: list[float] = field(default_factory=list)  # seconds, successful clicks
    errors: dict[str, int] = field(default_factory=dict)
    error_examples: list[str] = field(default_factory=list)

    def add(self, result: RunResult, shown: bool = True) -> None:
        if result.ok and shown:
            self.times.append(result.seconds)
            return
        kind = "exception" if result.exceptions else result.status if not result.ok else "no new selection"
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.error_examples) < 3:
            self.error_examples.append(f"{kind}: {(result.exceptions or [''])[0][:200]}")

    @property
    def count(self) -> int:
        return len(self.times) + sum(self.errors.values())


async def student(
    session: BrowserSession, plane: Plane, think: tuple[float, float], deadline: float, seed: int, tally: Tally,
    change: bool = True,
) -> None:  # fmt: skip
    """Think, click (or, with change=False, send a rerun that changes nothing), wait for the answer."""
    rng = random.Random(seed)
    seq = 0
    while True:
        await asyncio.sleep(rng.uniform(*think))
        if time.perf_counter() >= deadline:
            return
        if change:
            seq += 1
            result = await session.set_component_state(plane.key, "click", plane.click(rng, seq))
            tally.add(result, plane.shows(session, seq))
        else:
            tally.add(await session.rerun())
        if session.closed_reason is not None:  # the socket closed: this student is gone
            return


async def open_sessions(url: str, count: int, timeout: float) -> tuple[list[BrowserSession], list[RunResult]]:
    sessions = [BrowserSession(url, timeout=timeout) for _ in range(count)]
    results = await asyncio.gather(*(s.open() for s in sessions), return_exceptions=True)
    results = [r if isinstance(r, RunResult) else RunResult(f"failed: {r!r}"[:200], 0.0) for r in results]
    return sessions, results


async def close_sessions(sessions: list[BrowserSession]) -> None:
    await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
