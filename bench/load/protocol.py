"""A light Streamlit client: one browser tab's websocket traffic, without the browser.

Every use of Streamlit's internal protocol in the benchmark is in this module: the protobuf classes
shipped in ``streamlit.proto`` (``BackMsg``, ``ClientState``, ``WidgetStates``, ``ForwardMsg``) and
the websocket route ``/_stcore/stream``. They are internal to Streamlit and change between versions,
so :func:`probe` checks at start that every message and field used here exists in the installed
version and stops with a message naming what is missing. Written against Streamlit 1.67 (the
version requirements.txt pins at its lower bound and the tests run); it follows that version's
frontend (``frontend/app/src/App.tsx`` and ``WidgetStateManager``):

* **Connect**: a websocket to ``/_stcore/stream`` with subprotocol ``streamlit``, then a
  ``BackMsg.rerun_script`` (``ClientState``: the URL's query string, the page name from the URL path,
  the widget states, the hashes of the messages it has cached) – what the frontend sends when its
  websocket opens. Later reruns name the page by the ``page_script_hash`` of the last
  ``ForwardMsg.navigation`` (``st.navigation`` reports the page it ran), as the frontend does.
* **Widgets**: ``ForwardMsg.delta`` elements carry each widget's id (``"$$ID-<hash>-<key>"`` for a
  keyed widget). Pressing a button is a rerun whose ``WidgetStates`` holds ``trigger_value=True``
  for the button's id, sent once (the frontend resets a trigger after sending it); typing a number
  sets ``double_value`` (the app's number inputs are float-typed) and is sent with every later
  rerun, as the frontend keeps every widget value it has set. Unlike the frontend it does not echo
  the value of widgets it never touched: the server keeps those in the session's state (Streamlit's
  ``SessionState`` falls back to the previous run's widget values), so the script sees the same
  values.
* **Fragment timer**: a ``ForwardMsg.auto_rerun`` (``st.fragment(run_every=...)``) starts a timer
  that sends ``rerun_script`` with the fragment's id and ``is_auto_rerun=True`` every ``interval``
  seconds without waiting for the previous one (``handleAutoRerun``); a ``new_session`` that starts a
  full run (no fragment ids in ``metadata.run``) cancels every timer (``cleanupAutoReruns``).
* **Message cache**: cacheable messages are kept by hash and their hashes sent with each rerun, so
  the server may send a ``ref_hash`` instead of an unchanged element, as with a browser; a message
  not referenced for ``_CACHE_RUNS`` script runs is dropped (the frontend's ``ForwardMsgCache``
  with ``global.maxCachedMessageAge`` = 2).

What a session "shows" is read from the elements: ``progress`` (the live panel's bar and its text),
``alert`` (``st.info`` / ``st.error`` bodies), ``exception``. A fragment rerun's time is measured
from sending its ``BackMsg`` to the ``script_finished`` that ends it; reruns the server coalesced
(Streamlit merges requests that arrive while a run is going) are timed from the earliest one.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

ROUTE = "/_stcore/stream"
_CACHE_RUNS = 2  # script runs a cached message survives without being referenced
_STEP = re.compile(r"step ([\d,]+) of ([\d,]+)")
_PLACE = re.compile(r"place (\d+) of (\d+)")
# the diagnosis panel's findings are error boxes that open with the rule's name and number
# ("**Mode collapse** (R9)"; a browser's text of the box starts with its icon, "🛑" and a blank line):
# they are the lesson, not an error of the app
DIAGNOSIS = re.compile(r"^(?:\W{1,3}\s*)?\**[^\n*]+\** \(R\d+\)")


class ProtocolMismatch(RuntimeError):
    """The installed Streamlit lacks a message or field this client speaks."""


# (message class path in streamlit.proto, fields it must have)
_NEEDED = {
    "BackMsg_pb2.BackMsg": ("rerun_script",),
    "ClientState_pb2.ClientState": ("query_string", "widget_states", "page_script_hash", "page_name",
                                    "fragment_id", "is_auto_rerun", "cached_message_hashes"),
    "WidgetStates_pb2.WidgetStates": ("widgets",),
    "WidgetStates_pb2.WidgetState": ("id", "trigger_value", "double_value"),
    "ForwardMsg_pb2.ForwardMsg": ("new_session", "navigation", "delta", "script_finished", "auto_rerun", "ref_hash",
                                  "hash", "metadata"),
    "ForwardMsg_pb2.ForwardMsgMetadata": ("cacheable", "run"),
    "ForwardMsg_pb2.RunIdentity": ("script_run_id", "fragment_ids"),
    "AutoRerun_pb2.AutoRerun": ("interval", "fragment_id"),
    "Navigation_pb2.Navigation": ("page_script_hash",),
    "Delta_pb2.Delta": ("new_element",),
    "Element_pb2.Element": ("button", "number_input", "progress", "alert", "exception"),
    "Progress_pb2.Progress": ("text", "value"),
    "Alert_pb2.Alert": ("body", "format"),
}  # fmt: skip


def probe() -> dict:
    """Import the protobuf classes this client uses and check their fields; returns them by short
    name ("BackMsg", ...). Raises :class:`ProtocolMismatch` naming every missing one, and the
    installed Streamlit version, when Streamlit's internal protocol changed."""
    import importlib

    import streamlit

    found, missing = {}, []
    for path, fields in _NEEDED.items():
        module, name = path.split(".")
        try:
            cls = getattr(importlib.import_module(f"streamlit.proto.{module}"), name)
        except (ImportError, AttributeError):
            missing.append(f"streamlit.proto.{path}")
            continue
        have = set(cls.DESCRIPTOR.fields_by_name)
        missing += [f"{name}.{f}" for f in fields if f not in have]
        found[name] = cls
    if "ForwardMsg" in found and "FINISHED_FRAGMENT_RUN_SUCCESSFULLY" not in found["ForwardMsg"].ScriptFinishedStatus.keys():
        missing.append("ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY")
    if missing:
        raise ProtocolMismatch(
            f"The light client speaks Streamlit 1.67's websocket protocol; Streamlit {streamlit.__version__} "
            f"lacks: {', '.join(missing)}. Run the benchmark with browsers only (--light 0) or update "
            "bench/load/protocol.py."
        )
    return found


@dataclass
class Seen:
    """What one light session measured (times: time.perf_counter seconds)."""

    start_sent: float | None = None  # when the Start press was sent
    first_progress: float | None = None  # first progress bar after Start: the page shows a run
    places: list[tuple[int, int]] = field(default_factory=list)  # queue places read from the page
    errors: list[str] = field(default_factory=list)  # st.error bodies and exceptions
    progress: list[tuple[float, int, int, str]] = field(default_factory=list)  # (t, step, total, text)
    fragment_s: list[float] = field(default_factory=list)  # fragment rerun round trips (s)
    full_runs: int = 0


class LightSession:
    """One browser tab on ``url`` (``http://host:port/<page>?<query>``) over Streamlit's websocket.

    ``await connect()`` opens it and runs the page; :meth:`press` and :meth:`set_number` act on
    widgets by their key; :attr:`seen` collects the measurements; ``await close()`` drops the
    websocket as a closed tab does.
    """

    def __init__(self, url: str, protos: dict):
        parts = urlsplit(url)
        self._ws_url = f"ws://{parts.netloc}{ROUTE}"
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._page_name = parts.path.strip("/")
        self._query = parts.query
        self._p = protos
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._timers: list[asyncio.Task] = []
        self._page_hash = ""
        self._values: dict[str, float] = {}  # widget id -> number set by this client
        self._ids: dict[str, str] = {}  # widget key -> id, from the elements
        self._cache: dict[str, tuple[int, object]] = {}  # hash -> (last run referenced, ForwardMsg)
        self._runs = 0
        self._pending_fragment: list[float] = []
        self._watch_start = False
        self.seen = Seen()
        self.closed = False
        self.texts: list[str] = []  # alert and progress texts of the latest run

    # ------------------------------------------------------------------ actions
    async def connect(self) -> None:
        import websockets

        self._ws = await websockets.connect(self._ws_url, subprotocols=["streamlit"], max_size=None,
                                            origin=self._origin, open_timeout=60, ping_interval=None)  # fmt: skip
        self._reader = asyncio.create_task(self._read())
        await self._rerun()

    async def wait_for_widget(self, key: str, timeout: float = 60) -> str:
        """The id of the widget with this key, once the page has drawn it."""
        deadline = time.monotonic() + timeout
        while key not in self._ids:
            if time.monotonic() > deadline or self.closed:
                raise TimeoutError(f"no widget with key {key!r} on {self._page_name} after {timeout} s")
            await asyncio.sleep(0.05)
        return self._ids[key]

    async def press(self, key: str) -> None:
        """Click the button with this key (a rerun with its trigger set, once)."""
        wid = await self.wait_for_widget(key)
        if key.endswith("_start"):
            self.seen.start_sent = time.perf_counter()
            self._watch_start = True
        await self._rerun(trigger=wid)

    async def set_number(self, key: str, value: float) -> None:
        """Type ``value`` into the number input with this key (sent now and with every later rerun)."""
        self._values[await self.wait_for_widget(key)] = float(value)
        await self._rerun()

    async def close(self) -> None:
        for t in self._timers:
            t.cancel()
        self._timers.clear()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
        self.closed = True

    # ------------------------------------------------------------------ protocol
    async def _rerun(self, trigger: str | None = None, fragment_id: str = "", auto: bool = False) -> None:
        p = self._p
        states = p["WidgetStates"]()
        for wid, value in self._values.items():
            states.widgets.add(id=wid, double_value=value)
        if trigger is not None:
            states.widgets.add(id=trigger, trigger_value=True)
        msg = p["BackMsg"]()
        cs = msg.rerun_script
        cs.query_string = self._query
        cs.widget_states.CopyFrom(states)
        cs.page_script_hash = self._page_hash
        cs.page_name = "" if self._page_hash else self._page_name
        cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        cs.cached_message_hashes.extend(self._cache)
        if fragment_id:
            self._pending_fragment.append(time.perf_counter())
        await self._ws.send(msg.SerializeToString())

    async def _timer(self, fragment_id: str, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self._rerun(fragment_id=fragment_id, auto=True)

    async def _read(self) -> None:
        import websockets

        fmsg = self._p["ForwardMsg"]
        try:
            async for data in self._ws:
                msg = fmsg()
                msg.ParseFromString(data)
                self._handle(msg)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed = True
            for t in self._timers:
                t.cancel()

    def _handle(self, msg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            entry = self._cache.get(msg.ref_hash)
            if entry is None:
                self.seen.errors.append(f"server referenced an uncached message {msg.ref_hash}")
                return
            self._cache[msg.ref_hash] = (self._runs, entry[1])
            cached = type(msg)()
            cached.CopyFrom(entry[1])
            cached.metadata.CopyFrom(msg.metadata)  # the reference carries the delta path
            msg, kind = cached, cached.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            self._cache[msg.hash] = (self._runs, msg)
        if kind == "navigation":  # st.navigation names the page that ran: later reruns ask for it
            self._page_hash = msg.navigation.page_script_hash or self._page_hash
        elif kind == "new_session":
            if not msg.metadata.run.fragment_ids:  # a full run: the frontend drops every timer
                for t in self._timers:
                    t.cancel()
                self._timers.clear()
                self.texts = []
        elif kind == "auto_rerun":
            a = msg.auto_rerun
            self._timers.append(asyncio.create_task(self._timer(a.fragment_id, a.interval)))
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            self._element(msg.delta.new_element)
        elif kind == "script_finished":
            now = time.perf_counter()
            self._runs += 1
            self._cache = {h: e for h, e in self._cache.items() if self._runs - e[0] <= _CACHE_RUNS}
            statuses = self._p["ForwardMsg"].ScriptFinishedStatus
            if msg.script_finished == statuses.Value("FINISHED_FRAGMENT_RUN_SUCCESSFULLY"):
                if self._pending_fragment:
                    self.seen.fragment_s.append(now - self._pending_fragment[0])
                self._pending_fragment.clear()
            elif msg.script_finished == statuses.Value("FINISHED_SUCCESSFULLY"):
                self.seen.full_runs += 1
                self._pending_fragment.clear()  # a full run reruns the fragments too

    def _element(self, el) -> None:
        kind = el.WhichOneof("type")
        if kind in ("button", "number_input"):
            wid = getattr(el, kind).id
            key = wid.split("-", 2)[2] if wid.startswith("$$ID-") and wid.count("-") >= 2 else wid
            self._ids[key] = wid
        elif kind == "progress":
            now = time.perf_counter()
            text = el.progress.text
            self.texts.append(text)
            if self._watch_start and self.seen.first_progress is None:
                self.seen.first_progress = now
            if m := _STEP.search(text):
                self.seen.progress.append((now, int(m[1].replace(",", "")), int(m[2].replace(",", "")), text))
        elif kind == "alert":
            self.texts.append(el.alert.body)
            if el.alert.format == type(el.alert).Format.Value("ERROR") and not DIAGNOSIS.match(el.alert.body):
                self.seen.errors.append(el.alert.body)
            elif m := _PLACE.search(el.alert.body):
                self.seen.places.append((int(m[1]), int(m[2])))
        elif kind == "exception":
            self.seen.errors.append(f"{el.exception.type}: {el.exception.message}")

    @property
    def last_status(self) -> str:
        """The last progress text (``"step 10 of 200 · done"``), or "" before any."""
        return self.seen.progress[-1][3] if self.seen.progress else ""
