"""The issue-18 scenarios against one server each, with light sessions (:mod:`.protocol`) and a few
browser tabs (:mod:`.browsers`), and the server sampled throughout (:mod:`.server`).

* :func:`class_on_one_link` – scenario (a) then (d): one session trains the preset alone (its steps/s
  with one viewer); then ``n`` sessions open the same preset link and press Start within
  ``spread_s``; time from each press to the page's first progress bar; then all watch for
  ``watch_s``: the shared run's steps/s, the fragment reruns' round trips, the server's RSS.
* :func:`queue_then_leave` – scenario (b) then (c): ``n`` sessions each start a short run with their
  own seed; nobody may see an error, the queue must serve all, each waiting page's place is read
  from its text; then every session starts a long run (two train, the rest wait) and disconnects:
  how long until no thread of the server is busy, and its RSS against where (b) started.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import re
import statistics
import time
from pathlib import Path

from bench.load import browsers, protocol
from bench.load.server import Sampler, Server, load_average

PAGE = "toys_2d"


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def _rate(points: list[tuple[float, int]]) -> float | None:
    """Steps per second between the first and the last (time, step) observation."""
    if len(points) < 2:
        return None
    points = sorted(points)
    (t0, s0), (t1, s1) = points[0], points[-1]
    return (s1 - s0) / (t1 - t0) if t1 > t0 else None


def _running(text: str) -> bool:
    """Whether a progress text shows its run training ("step s of N · r steps/s · t s left"); a
    finished, paused or starting run's text ends with its status instead. Only these observations
    give a rate: a page that shows "done" for the last seconds of a window would count them as
    seconds without a step (run 5 of docs/load.md: its 26,000-step run ended inside the window)."""
    return text.endswith(" s left")


def _in_steps(points: list[tuple[float, int]], lo: int, hi: int) -> list[tuple[float, int]]:
    return [(t, s) for t, s in points if lo <= s <= hi]


_STEP = re.compile(r"step ([\d,]+) of")
_REPORTED = re.compile(r"· ([\d,.]+) steps/s")


def _median_reported(progress: list[tuple]) -> float | None:
    """The median of the step rates the pages showed ("step s of N · r steps/s · ...")."""
    rates = [float(m[1].replace(",", "")) for *_, text in progress if (m := _REPORTED.search(text))]
    return statistics.median(rates) if rates else None


def _server_figures(sampler: Sampler, t0: float, t1: float) -> dict:
    ss = sampler.between(t0, t1)
    if not ss:
        return {}
    return {"rss_mb_start": ss[0].rss_mb, "rss_mb_max": max(s.rss_mb for s in ss), "rss_mb_end": ss[-1].rss_mb,
            "cpu_cores_mean": statistics.fmean(s.cpu for s in ss), "cpu_cores_max": max(s.cpu for s in ss),
            "threads_max": max(s.threads for s in ss), "threads_end": ss[-1].threads,
            "workers_rss_mb_max": max(s.workers_rss_mb for s in ss), "total_rss_mb_max": max(s.total_rss_mb for s in ss),
            "pss_mb_max": max(s.pss_mb for s in ss), "total_pss_mb_max": max(s.total_pss_mb for s in ss),
            "workers_max": max(s.workers for s in ss)}  # fmt: skip


def _start_browsers(jobs: list[browsers.Job], procs: int, watch_s: float):
    """Worker processes (``procs`` of them) sharing the tabs; returns (processes, results, done)."""
    ctx = mp.get_context("spawn")
    results, done = ctx.Queue(), ctx.Event()
    workers = []
    for k in range(procs):
        part = jobs[k::procs]
        if part:
            p = ctx.Process(target=browsers.worker, args=(part, results, done, watch_s), daemon=True)
            p.start()
            workers.append((p, len(part)))
    return workers, results, done


def _collect(workers, results, done) -> list[dict]:
    done.set()
    out = []
    for _ in workers:
        try:
            out += results.get(timeout=120)
        except Exception:
            out.append({"problem": "a browser worker did not report within 120 s"})
    for p, _ in workers:
        p.join(30)
        if p.is_alive():
            p.terminate()
    return out


async def _open(url: str, n: int, protos: dict) -> list[protocol.LightSession]:
    sessions = [protocol.LightSession(url, protos) for _ in range(n)]
    for s in sessions:  # one after another, as a class's browsers open the link over a few seconds
        await s.connect()
    await asyncio.gather(*(s.wait_for_widget(f"{PAGE}_start", timeout=180) for s in sessions))
    return sessions


async def _press_at(s: protocol.LightSession, at: float) -> None:
    await asyncio.sleep(max(0.0, at - time.time()))
    await s.press(f"{PAGE}_start")


async def _until(check, timeout: float, every: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(every)
    return check()


def class_on_one_link(n: int, n_browsers: int, procs: int, preset: str, spread_s: float, baseline_s: float,
                      watch_s: float, env: dict, log_dir: Path, options: dict | None = None,
                      steps: int | None = None) -> dict:  # fmt: skip
    """Scenarios (a) and (d); returns the raw figures. ``steps``: typed into every session's Steps
    field (the one viewer's too) before Start, so that the shared run trains through the whole
    window (the same config in every session: one run); None keeps the preset's. Both speeds are
    taken over the same steps of the run: those the class's window covered."""
    protos = protocol.probe()
    with Server(env, log_dir / "server_a.log", options) as server:
        sampler = Sampler(server.proc.pid, own_process=os.environ.get("BENCH_CLIENTS_NICE", "0") != "0")
        url = f"{server.url}/{PAGE}?preset={preset}"
        fig: dict = {"preset": preset, "steps": steps, "sessions": n, "browsers": n_browsers,
                     "uptime_start": load_average()}  # fmt: skip
        alone_pts: list[tuple[float, int]] = []

        async def main() -> None:
            # one viewer: the preset's run with nobody else on the server
            (alone,) = await _open(url, 1, protos)
            if steps:
                await alone.set_number(f"{PAGE}_steps", steps)
            await alone.press(f"{PAGE}_start")
            await _until(lambda: alone.seen.first_progress is not None, 120)
            t_run = time.perf_counter()
            await asyncio.sleep(baseline_s)
            # past the start-up, while it trains
            alone_pts[:] = [(t, s) for t, s, _, text in alone.seen.progress if t >= t_run + 3 and _running(text)]
            fig["steps_per_s_one_viewer_whole_baseline"] = _rate(alone_pts)
            fig["one_viewer_steps"] = [alone_pts[0][1], alone_pts[-1][1]] if alone_pts else None
            fig["reported_rate_one_viewer_median"] = _median_reported([x for x in alone.seen.progress if x[0] >= t_run + 3])
            fig["server_one_viewer"] = _server_figures(sampler, t_run + 3, time.perf_counter())
            await alone.press(f"{PAGE}_stop")  # stopped runs are not shared: the class starts anew
            await asyncio.sleep(1.0)
            await alone.close()

            # the class: n sessions on the same link, Start pressed within spread_s
            n_light = n - n_browsers
            t_open = time.perf_counter()
            start0 = time.time() + 15 + 4 * n_browsers  # the browsers need time to load their tabs
            slots = [start0 + spread_s * i / max(1, n - 1) for i in range(n)]
            b_slots, l_slots = slots[::max(1, n // max(1, n_browsers))][:n_browsers], []
            l_slots = [t for t in slots if t not in b_slots]
            workers, results, done = _start_browsers(
                [browsers.Job(url, t, {"Steps": steps} if steps else {}) for t in b_slots], procs,
                watch_s=spread_s + watch_s + 240)  # fmt: skip
            sessions = await _open(url, n_light, protos)
            if steps:
                for s in sessions:
                    await s.set_number(f"{PAGE}_steps", steps)
            fig["open_s_light"] = time.perf_counter() - t_open
            fig["uptime_class_start"] = load_average()
            late = max(0.0, time.time() - start0)
            fig["start_late_s"] = late  # > 0 when opening the light sessions took longer than planned
            await asyncio.gather(*(_press_at(s, t + late) for s, t in zip(sessions, l_slots, strict=True)))
            await _until(lambda: all(s.seen.first_progress for s in sessions), 120)
            t_watch, wall_watch = time.perf_counter(), time.time()
            await asyncio.sleep(watch_s)
            t_end, wall_end = time.perf_counter(), time.time()
            fig["watch_wall"] = [wall_watch, wall_end]
            fig["to_progress_s_light"] = [None if s.seen.first_progress is None else s.seen.first_progress - s.seen.start_sent
                                          for s in sessions]  # fmt: skip
            pts = [(t, st) for s in sessions for t, st, _, text in s.seen.progress
                   if t_watch <= t <= t_end and _running(text)]  # fmt: skip
            fig["steps_per_s_class"] = _rate(pts)
            # the run trained through the window: every session's last observation in it shows it training
            fig["sessions_training_at_window_end"] = sum(
                1 for s in sessions if (last := [x for x in s.seen.progress if x[0] <= t_end]) and _running(last[-1][3]))
            # one viewer's speed over the same steps of the run (their snapshots cost the same: the
            # snapshot interval doubles at fixed steps, live.add_snapshot)
            if pts:
                lo, hi = min(st for _, st in pts), max(st for _, st in pts)
                same = _in_steps(alone_pts, lo, hi)
                fig["class_steps"] = [lo, hi]
                fig["one_viewer_same_steps"] = [same[0][1], same[-1][1]] if same else None
                fig["steps_per_s_one_viewer"] = _rate(same)
            # the rate the run itself reports on the page (measured by the trainer over its last ~5 s)
            fig["reported_rate_class_median"] = _median_reported([x for s in sessions for x in s.seen.progress
                                                                  if t_watch <= x[0] <= t_end])  # fmt: skip
            # the pages may redraw too rarely under load for the window: then from the class's first
            # progress bar on (all sessions were joining or watching the same run then)
            t_first = min((s.seen.first_progress for s in sessions if s.seen.first_progress), default=t_watch)
            fig["steps_per_s_class_since_start"] = _rate([(t, st) for s in sessions for t, st, _, text in s.seen.progress
                                                          if t_first + 3 <= t <= t_end and _running(text)])  # fmt: skip
            fig["progress_observations_watch"] = len(pts)
            frag = [x for s in sessions for x in s.seen.fragment_s]  # whole scenario
            fig["fragment_s_watch"] = _pct([x for s in sessions for x in s.seen.fragment_s[-int(watch_s * 2):]], 0.95)
            fig["fragment_p50_s"], fig["fragment_p95_s"] = _pct(frag, 0.5), _pct(frag, 0.95)
            fig["fragment_reruns"] = len(frag)
            fig["errors_light"] = [e for s in sessions for e in s.seen.errors]
            fig["server_class"] = _server_figures(sampler, t_watch, t_end)
            fig["uptime_end"] = load_average()
            fig["browser_results"] = _collect(workers, results, done)
            for s in sessions:
                await s.close()

        asyncio.run(main())
        b = fig["browser_results"]
        fig["to_progress_s_browser"] = [r["first_progress"] - r["start_sent"] if r.get("first_progress") and r.get("start_sent")
                                        else None for r in b]  # fmt: skip
        # what each tab's progress bar showed during the window (its redraws, and the run's speed from them)
        if "watch_wall" in fig:
            w0, w1 = fig["watch_wall"]
            seen = [[(t, int(m[1].replace(",", ""))) for t, text in r.get("statuses", ())
                     if w0 <= t <= w1 and _running(text) and (m := _STEP.search(text))] for r in b]  # fmt: skip
            fig["browser_redraws_in_window"] = [len(x) for x in seen]
            fig["browser_steps_per_s"] = [_rate(x) for x in seen]
        fig["samples"] = [vars(s) for s in sampler.stop()]
    return fig


def queue_then_leave(n: int, n_browsers: int, procs: int, preset: str, steps: int, spread_s: float,
                     env: dict, log_dir: Path, timeout_s: float = 600, options: dict | None = None) -> dict:  # fmt: skip
    """Scenarios (b) and (c); returns the raw figures."""
    protos = protocol.probe()
    with Server(env, log_dir / "server_b.log", options) as server:
        sampler = Sampler(server.proc.pid, own_process=os.environ.get("BENCH_CLIENTS_NICE", "0") != "0")
        url = f"{server.url}/{PAGE}?preset={preset}"
        fig: dict = {"preset": preset, "steps": steps, "sessions": n, "browsers": n_browsers}

        async def main() -> None:
            (warm,) = await _open(url, 1, protos)  # imports torch and the pages once
            await warm.close()
            await asyncio.sleep(10)  # the training workers (GAN_DEMO_TRAIN_IN=process) start and import torch
            fig["rss_mb_warm"] = sampler.samples[-1].rss_mb
            fig["workers_rss_mb_warm"] = sampler.samples[-1].workers_rss_mb
            fig["total_pss_mb_warm"] = sampler.samples[-1].total_pss_mb
            fig["threads_warm"] = sampler.samples[-1].threads
            fig["uptime_start"] = load_average()
            n_light = n - n_browsers
            start0 = time.time() + 20 + 6 * n_browsers
            slots = [start0 + spread_s * i / max(1, n - 1) for i in range(n)]
            b_slots = slots[::max(1, n // max(1, n_browsers))][:n_browsers]
            l_slots = [t for t in slots if t not in b_slots]
            jobs = [browsers.Job(url, t, {"Seed": 1000 + k, "Steps": steps}) for k, t in enumerate(b_slots)]
            workers, results, done = _start_browsers(jobs, procs, watch_s=timeout_s)
            sessions = await _open(url, n_light, protos)
            for k, s in enumerate(sessions):
                await s.set_number(f"{PAGE}_seed", 1 + k)
                await s.set_number(f"{PAGE}_steps", steps)
            late = max(0.0, time.time() - start0)
            fig["start_late_s"] = late
            t0 = time.perf_counter()
            await asyncio.gather(*(_press_at(s, t + late) for s, t in zip(sessions, l_slots, strict=True)))
            ok = await _until(lambda: all(s.last_status.endswith(("done", "stopped", "failed")) for s in sessions),
                              timeout_s, every=1.0)  # fmt: skip
            t1 = time.perf_counter()
            fig["all_finished"] = ok
            fig["duration_s"] = t1 - t0
            fig["final_status_light"] = [s.last_status for s in sessions]
            fig["wait_s_light"] = [None if s.seen.first_progress is None else s.seen.first_progress - s.seen.start_sent
                                   for s in sessions]  # fmt: skip
            fig["places_light"] = [s.seen.places for s in sessions]
            fig["errors_light"] = [e for s in sessions for e in s.seen.errors]
            fig["fragment_p95_s"] = _pct([x for s in sessions for x in s.seen.fragment_s], 0.95)
            fig["server_b"] = _server_figures(sampler, t0, t1)
            fig["uptime_end_b"] = load_average()
            # browsers: give them a moment to read the final pages, then they close (disconnect)
            await asyncio.sleep(2)
            fig["browser_results"] = _collect(workers, results, done)

            # (c): every light session starts a long run (two train, the rest wait), then all leave
            fig["uptime_start_c"] = load_average()
            for k, s in enumerate(sessions):
                await s.set_number(f"{PAGE}_seed", 500 + k)
                await s.set_number(f"{PAGE}_steps", 1_000_000)
            for s in sessions:
                s.seen.start_sent, s.seen.first_progress = None, None
                await s.press(f"{PAGE}_start")
            await _until(lambda: sum(1 for s in sessions if s.seen.first_progress) >= 2, 120)
            await asyncio.sleep(5)
            fig["busy_threads_before_leave"] = sorted(sampler.busy_tids())
            fig["rss_mb_before_leave"] = sampler.samples[-1].rss_mb
            fig["workers_rss_mb_before_leave"] = sampler.samples[-1].workers_rss_mb
            fig["total_pss_mb_before_leave"] = sampler.samples[-1].total_pss_mb
            t_leave = time.perf_counter()
            for s in sessions:
                await s.close()
            quiet_since = None

            def quiet() -> bool:  # no busy thread for 2 s running
                nonlocal quiet_since
                if not sampler.between(t_leave + 0.5) or sampler.samples[-1].busy:
                    quiet_since = None
                    return False
                quiet_since = quiet_since or sampler.samples[-1].t
                return sampler.samples[-1].t - quiet_since >= 2

            fig["quiet"] = await _until(quiet, 120)
            fig["no_busy_thread_after_s"] = (quiet_since - t_leave) if quiet_since else None
            fig["training_threads_exited"] = not (set(fig["busy_threads_before_leave"]) & sampler.alive_tids())
            await asyncio.sleep(5)
            fig["rss_mb_after"] = sampler.samples[-1].rss_mb
            fig["workers_rss_mb_after"] = sampler.samples[-1].workers_rss_mb
            fig["total_pss_mb_after"] = sampler.samples[-1].total_pss_mb
            fig["threads_after"] = sampler.samples[-1].threads
            fig["uptime_end_c"] = load_average()

        asyncio.run(main())
        b = fig["browser_results"]
        fig["wait_s_browser"] = [r["first_progress"] - r["start_sent"] if r.get("first_progress") and r.get("start_sent")
                                 else None for r in b]  # fmt: skip
        fig["places_browser"] = [r.get("places", []) for r in b]
        fig["final_status_browser"] = [r.get("last_status", "") for r in b]
        fig["errors_browser"] = [e for r in b for e in r.get("errors", [])] + [r["problem"] for r in b if r.get("problem")]
        fig["samples"] = [vars(s) for s in sampler.stop()]
    return fig
