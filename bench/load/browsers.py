"""Real browser sessions: Debian's chromium driven by Playwright in a worker process (as Streamlit's
own e2e_playwright/load_testing runs its browsers outside the process that measures the server).

A worker opens ``len(jobs)`` tabs (one browser context each, so each is its own Streamlit session) in
one chromium, does what each job says (type numbers, press Start at a given time), watches each
tab's page for the progress bar, the queue's place and error boxes, and reports on ``results``
when ``done`` is set (then it closes the browser: every tab disconnects at once).
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import asdict, dataclass, field

from bench.load.protocol import DIAGNOSIS

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--no-first-run"]  # fmt: skip
_PLACE = re.compile(r"place (\d+) of (\d+)")
# notes (epoch ms) when a progress bar first appears in the page, without polling from Python
_OBSERVE = """() => { window.__firstProgress = null; window.__bars = [];
  const look = () => { const bar = document.querySelector('[data-testid="stProgress"]');
    if (!bar) return;
    if (!window.__firstProgress) window.__firstProgress = Date.now();
    const text = bar.innerText, bars = window.__bars;
    if (!bars.length || bars[bars.length - 1][1] !== text) bars.push([Date.now(), text]); };
  new MutationObserver(look).observe(document.body, {childList: true, subtree: true, characterData: true}); }"""


@dataclass
class Job:
    url: str  # the page with its query string (a preset link)
    start_at: float  # time.time() at which to press Start
    numbers: dict[str, float] = field(default_factory=dict)  # field label -> value typed before Start


@dataclass
class Result:
    start_sent: float | None = None  # time.time() of the click
    first_progress: float | None = None  # time.time() the progress bar was first visible
    places: list[tuple[int, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    last_status: str = ""
    statuses: list[tuple[float, str]] = field(default_factory=list)  # (time.time(), text): each new text of the bar, as the page drew it
    problem: str = ""  # why the tab could not do its job


def lower_priority(pid: int, nice: int) -> None:
    """Give process ``pid`` the scheduling priority ``nice`` (0-19, higher is lower): its own nice
    value, and, where the kernel groups processes by session for scheduling (``autogroup``, on in
    most Linux distributions: then a process's nice value only weighs inside its session's group),
    the nice value of its session's group too (``/proc/<pid>/autogroup``, man 7 sched)."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, max(nice, os.getpriority(os.PRIO_PROCESS, pid)))
    except (ProcessLookupError, PermissionError):
        return
    try:
        with open(f"/proc/{pid}/autogroup", "w") as f:
            f.write(str(nice))
    except OSError:  # no autogroup on this kernel
        pass


class _Demote:
    """Lower the priority of every process chromium has started so far (its renderers start with
    the tabs, in sessions and scheduling groups of their own, at nice 0); at most every 2 s."""

    def __init__(self, nice: int):
        self.nice, self.done, self.last = nice, set(), 0.0

    def __call__(self) -> None:
        if self.nice <= 0 or time.monotonic() - self.last < 2.0:
            return
        from bench.load.server import descendants

        self.last = time.monotonic()
        for pid in set(descendants(os.getpid())) - self.done:
            lower_priority(pid, self.nice)
            self.done.add(pid)


def _wait_idle(page, timeout_ms: int = 120_000) -> None:
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms)


def worker(jobs: list[Job], results, done, watch_s: float) -> None:
    """Entry point of the worker process; puts a list of ``asdict(Result)`` on ``results``.

    ``BENCH_CLIENTS_NICE`` (``--clients-nice``) lowers the scheduling priority of this process and
    of the chromium it starts (:func:`lower_priority`), so that on the benchmark's own machine the
    tabs take the CPU the server and its training workers leave (a class's browsers run on the
    students' machines, not on the server)."""
    from playwright.sync_api import sync_playwright

    nice = int(os.environ.get("BENCH_CLIENTS_NICE", "0"))
    if nice > 0:
        lower_priority(os.getpid(), nice)

    out = [Result() for _ in jobs]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            pages = []
            for job in jobs:
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                page.goto(job.url, timeout=120_000)
                pages.append(page)
            for page, job, res in zip(pages, jobs, out, strict=True):
                try:
                    _wait_idle(page)
                    for label, value in job.numbers.items():
                        box = page.get_by_label(label, exact=True)
                        box.fill(f"{value:g}")
                        box.press("Enter")
                        _wait_idle(page)
                except Exception as e:  # a tab that could not load is reported, not fatal
                    res.problem = f"{type(e).__name__}: {e}"[:300]
            demote = _Demote(nice)
            demote()
            order = sorted(range(len(jobs)), key=lambda i: jobs[i].start_at)
            for i in order:
                if out[i].problem:
                    continue
                time.sleep(max(0.0, jobs[i].start_at - time.time()))
                pages[i].evaluate(_OBSERVE)
                out[i].start_sent = time.time()
                pages[i].get_by_role("button", name="Start").click()
            deadline = time.time() + watch_s
            while not done.is_set() and time.time() < deadline:
                demote()
                for page, res in zip(pages, out, strict=True):
                    if res.start_sent is None:
                        continue
                    _look(page, res)
                time.sleep(0.2)
            for page, res in zip(pages, out, strict=True):
                if res.start_sent is not None:  # the bar's texts as the page's own observer saw them change
                    res.statuses = [(t / 1000, text) for t, text in page.evaluate("() => window.__bars || []")]
            browser.close()
    except Exception as e:
        for res in out:
            res.problem = res.problem or f"{type(e).__name__}: {e}"[:300]
    results.put([asdict(r) for r in out])


def _look(page, res: Result) -> None:
    """Read the tab's page: progress bar text, the queue's place, error boxes."""
    try:
        if res.first_progress is None and (first := page.evaluate("() => window.__firstProgress")):
            res.first_progress = first / 1000
        bar = page.locator('[data-testid="stProgress"]')
        if bar.count():
            res.last_status = bar.first.inner_text(timeout=5_000)
        for alert in page.locator('[data-testid="stAlert"]').all_inner_texts():
            if m := _PLACE.search(alert):
                place = (int(m[1]), int(m[2]))
                if not res.places or res.places[-1] != place:
                    res.places.append(place)
        for text in page.locator('[data-testid="stAlertContentError"], [data-testid="stException"]').all_inner_texts():
            if text not in res.errors and not DIAGNOSIS.match(text):
                res.errors.append(text[:300])
    except Exception:  # the page redrew under the locator: read it again next time
        pass
