"""A Streamlit client without a browser: speaks the browser's websocket protocol, renders nothing.

Used by the load test (tests/benchmarks/bench_load.py) to drive a real `streamlit run` server
with many sessions, where real Chromium pages would use the cores that the server needs.

It sends what Streamlit's own frontend (1.67) sends, recorded from headless Chromium:
- the connection: `ws://host/_stcore/stream` with the subprotocols `streamlit` and an auth
  token (`PLACEHOLDER_AUTH_TOKEN` when no XSRF cookie was set), an Origin header, after the
  same `/_stcore/health` and `/_stcore/host-config` requests the browser makes first;
- `BackMsg.rerun_script` (a `ClientState`): the query string; the page name in the first
  message only, the `page_script_hash` of the page that ran in the later ones; the state of
  every widget on the page (`WidgetStates`, the values read from the elements the server
  sent, with what the user changed, and a button press as a one-off `trigger_value`); the
  `ContextInfo` (time zone, locale, URL, colour scheme); the hashes of the cached messages;
  `fragment_id` and `is_auto_rerun` for the timed reruns of `st.fragment(run_every=...)`,
  started on the server's `auto_rerun` messages and cleared by the next full run, as the
  browser does.

On the way back its page (`tools.streamlit_page.BrowserPage`) keeps the widget values, the page
that ran (`navigation`), the query string (`page_info_changed`, as the browser rewrites its
URL), the browser's ForwardMsg cache (`ref_hash` messages resolved, entries expired after
`maxCachedMessageAge` runs); the session keeps, for each run, the markdown it drew, the
exceptions it showed, and when its `script_finished` arrived.

Not covered: widgets other than select boxes, radios, checkboxes, number and text inputs,
buttons and components-v2 elements (sliders, multiselects, uploads ...) are not sent, so the
server keeps their last values; no app heartbeats, no reconnection with the old session id.
"""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

from tools.streamlit_messages import (
    AUTH_PLACEHOLDER,
    EARLY,
    FINISHED,
    MAX_MESSAGE_BYTES,
    STREAM_PATH,
    RunResult,
    rerun_message,
    widget_state,
)
from tools.streamlit_page import BrowserPage

T = TypeVar("T")


def run_to_end(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coroutine)` in a thread of its own: callable from synchronous code whose thread
    already has an event loop running (a test process that also drives Playwright's sync API)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, name="streamlit-client")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@dataclass
class _Pending:
    sent: float
    fragment_id: str
    run_id: str | None = None
    result: RunResult | None = None
    bytes_received: int = 0
    messages: int = 0
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class BrowserSession(BrowserPage):
    """One browser tab's session, without the browser: its page (`BrowserPage`) over a websocket.

        session = BrowserSession("http://127.0.0.1:8501")
        first = await session.open()                      # the default page, run to its end
        run = await session.set_component_state("explore_plane_dense_vae_2d", "click", {...})
        await session.close()

    One request at a time: each method returns when the run it caused has finished.
    """

    def __init__(
        self, base_url: str, page: str = "", query_string: str = "", *, timeout: float = 30.0, auto_rerun: bool = True
    ) -> None:
        self.base_url = base_url.rstrip("/")
        super().__init__(f"{self.base_url}/{page}", page, query_string)
        self.timeout = timeout
        self.auto_rerun = auto_rerun
        self.bytes_received = 0
        self.closed_reason: str | None = None
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}
        self._pending: _Pending | None = None
        self._lock = asyncio.Lock()

    # connection

    async def open(self) -> RunResult:
        """Connect as the browser does and run the first page; the time counts from the first request."""
        start = time.perf_counter()
        await asyncio.to_thread(self._preflight)
        parts = urllib.parse.urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        self._ws = await connect(
            f"{scheme}://{parts.netloc}{parts.path}/{STREAM_PATH}",
            origin=Origin(f"{parts.scheme}://{parts.netloc}"),
            subprotocols=[Subprotocol("streamlit"), Subprotocol(AUTH_PLACEHOLDER)],
            max_size=MAX_MESSAGE_BYTES,
            ping_interval=None,  # browsers answer the server's pings but send none
            open_timeout=self.timeout,
        )
        self._reader = asyncio.create_task(self._read())
        result = await self._request(
            rerun_message([], url=self.url, query_string=self.query_string, page_name=self.page), "", start
        )
        return result

    def _preflight(self) -> None:
        for path in ("_stcore/health", "_stcore/host-config"):
            with urllib.request.urlopen(f"{self.base_url}/{path}", timeout=self.timeout) as response:
                response.read()

    async def close(self) -> None:
        """Close the tab: the socket closes, timers stop."""
        for _, task in self._timers.values():
            task.cancel()
        self._timers.clear()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, 5)
            except (asyncio.TimeoutError, ConnectionClosed):
                self._reader.cancel()

    # what a user does

    async def set_values(self, values: Mapping[str, Any]) -> RunResult:
        """Change widgets (by key) and rerun, as typing into fields and pressing Enter does."""
        for key, value in values.items():
            widget_id = self.widget_id(key)
            self.widgets[widget_id] = widget_state(widget_id, value)
        return await self.rerun()

    async def set_component_state(self, key: str, name: str, value: Any) -> RunResult:
        """`component.setStateValue(name, value)` in a components-v2 element, and the run it causes
        (of the fragment that drew it, if any, as in the browser)."""
        message = self.component_state_message(key, name, value)
        return await self._request(message, message.rerun_script.fragment_id, time.perf_counter())

    async def press(self, key: str) -> RunResult:
        """Click a button: a trigger value sent once, in the fragment that drew the button."""
        widget_id = self.widget_id(key)
        trigger = widget_state(widget_id, True, trigger=True)
        return await self.rerun(extra=[trigger], fragment_id=self.widget_fragments.get(widget_id, ""))

    async def rerun(
        self, *, extra: Iterable[WidgetState] = (), fragment_id: str = "", is_auto_rerun: bool = False
    ) -> RunResult:
        """Send the widgets' states (and `extra` one-off ones) and wait for that run to finish."""
        message = self._rerun_message(extra, fragment_id, is_auto_rerun)
        return await self._request(message, fragment_id, time.perf_counter())

    async def _request(self, message: BackMsg, fragment_id: str, start: float) -> RunResult:
        async with self._lock:
            if self._ws is None or self.closed_reason is not None:
                return RunResult(self.closed_reason or "not sent", 0.0)
            pending = self._pending = _Pending(start, fragment_id)
            try:
                await self._ws.send(message.SerializeToString())
                return await asyncio.wait_for(asyncio.shield(pending.done), self.timeout)
            except asyncio.TimeoutError:
                return RunResult("timeout", time.perf_counter() - start)
            except ConnectionClosed:
                return RunResult("closed", time.perf_counter() - start)
            finally:
                self._pending = None

    # what the server sends

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for payload in self._ws:
                if isinstance(payload, str):
                    continue
                self.bytes_received += len(payload)
                message = ForwardMsg()
                message.ParseFromString(payload)
                self._handle(self.cache.process(message, payload), len(payload))
        except ConnectionClosed:
            self.closed_reason = "closed"
        except Exception as error:  # a message this client cannot handle: say so, as a failed run
            self.closed_reason = f"client error: {error!r}"[:300]
            await self._ws.close()
        finally:
            self.closed_reason = self.closed_reason or "closed"
            for _, task in self._timers.values():
                task.cancel()
            pending = self._pending
            if pending is not None and not pending.done.done():
                pending.done.set_result(RunResult(self.closed_reason, time.perf_counter() - pending.sent))

    def _handle(self, message: ForwardMsg, size: int) -> None:
        kind = message.WhichOneof("type")
        pending = self._pending
        if pending is not None:
            pending.bytes_received += size
            pending.messages += 1
        if kind == "new_session":
            self._new_run(message)
        elif kind == "delta":
            self._delta(message)
        elif kind == "script_finished":
            self._finished(message)
        elif kind == "navigation":  # the page st.navigation ran: the browser's current page from now on
            self.page_script_hash = message.navigation.page_script_hash or self.page_script_hash
        elif kind == "page_info_changed":  # st.query_params changed: the browser rewrites its URL
            self.query_string = message.page_info_changed.query_string
        elif kind == "auto_rerun" and self.auto_rerun:
            self._start_timer(message.auto_rerun.fragment_id, message.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment in message.stop_auto_rerun.fragment_ids:
                self._stop_timer(fragment)
        elif (
            kind == "session_event"
            and message.session_event.WhichOneof("type") == "script_compilation_exception"
            and pending is not None
            and pending.result is not None
        ):
            pending.result.exceptions.append(message.session_event.script_compilation_exception.message)

    def _new_run(self, message: ForwardMsg) -> None:
        run_id, fragments = message.metadata.run.script_run_id, tuple(message.metadata.run.fragment_ids)
        self._run_started(message)
        if not fragments:  # a full run: the browser stops the timers; the fragments set them again
            for fragment in list(self._timers):
                self._stop_timer(fragment)
        pending = self._pending
        if pending is not None and pending.run_id is None:
            wanted = (not fragments) if not pending.fragment_id else pending.fragment_id in fragments
            if wanted:
                pending.run_id = run_id
                pending.result = RunResult("running", 0.0)

    def _delta(self, message: ForwardMsg) -> None:
        delta = message.delta
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        pending = self._pending
        collecting = pending is not None and pending.result is not None
        if kind == "markdown" and collecting:
            pending.result.markdown.append(element.markdown.body)
        elif kind == "exception" and collecting:
            pending.result.exceptions.append(f"{element.exception.type}: {element.exception.message}")
        self._element_drawn(element, delta.fragment_id)

    def _finished(self, message: ForwardMsg) -> None:
        status = message.script_finished
        run_id, fragments = message.metadata.run.script_run_id, tuple(message.metadata.run.fragment_ids)
        self._run_finished(status, fragments)
        pending = self._pending
        if pending is None or pending.run_id != run_id or pending.done.done():
            return
        if status == EARLY:  # interrupted by a newer request; the answer is the run after it
            pending.run_id, pending.result = None, None
            return
        result = pending.result or RunResult("", 0.0)
        result.status = FINISHED.get(status, str(status))
        result.seconds = time.perf_counter() - pending.sent
        result.bytes_received, result.messages = pending.bytes_received, pending.messages
        pending.done.set_result(result)

    # st.fragment(run_every=...)

    def _start_timer(self, fragment_id: str, interval: float) -> None:
        if fragment_id in self._timers and self._timers[fragment_id][0] == interval:
            return
        self._stop_timer(fragment_id)
        self._timers[fragment_id] = (interval, asyncio.create_task(self._tick(fragment_id, interval)))

    def _stop_timer(self, fragment_id: str) -> None:
        timer = self._timers.pop(fragment_id, None)
        if timer is not None:
            timer[1].cancel()

    async def _tick(self, fragment_id: str, interval: float) -> None:
        """The browser's setInterval: send the fragment's rerun every `interval` seconds, without
        waiting for the previous one (a click in progress is not waited for either)."""
        while self._ws is not None and self.closed_reason is None:
            await asyncio.sleep(interval)
            message = self._rerun_message((), fragment_id, True)
            try:
                await self._ws.send(message.SerializeToString())
            except ConnectionClosed:
                return
