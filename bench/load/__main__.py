"""``python -m bench.load --sessions 30 --browsers 3``: the issue-18 load benchmark.

Runs scenarios (a)+(d) on one server and (b)+(c) on a fresh one (each ``streamlit run app.py`` with
``GAN_DEMO_MAX_RUNS``, ``GAN_DEMO_RECONNECT_GRACE_S`` and ``GAN_DEMO_RUNS_PER_SESSION=1``), writes
the raw figures to ``--out`` (JSON) and prints the markdown table of docs/load.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from bench.load import protocol, scenarios
from bench.load.server import load_average


def _fmt(x, unit: str = "", digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}{unit}"


def table(a: dict, b: dict) -> str:
    """The markdown table: one row per goal, the figure measured, and whether the goal is met."""
    rows = []
    if a:
        to = [x for x in a["to_progress_s_light"] + a["to_progress_s_browser"] if x is not None]
        missing = len(a["to_progress_s_light"]) + len(a["to_progress_s_browser"]) - len(to)
        worst = max(to) if to else None
        rows.append(("(a) Start → live run on the page, every session ≤ 3 s",
                     f"median {_fmt(statistics.median(to) if to else None, ' s')}, p95 {_fmt(scenarios._pct(to, 0.95), ' s')}, "
                     f"max {_fmt(worst, ' s')} (light {_fmt(max(x for x in a['to_progress_s_light'] if x is not None) if any(a['to_progress_s_light']) else None, ' s')}, "
                     f"browsers {', '.join(_fmt(x, ' s') for x in a['to_progress_s_browser'])}); {missing} never showed it",
                     "met" if worst is not None and worst <= 3 and not missing else f"missed ({_fmt(worst, ' s')} > 3 s)"))  # fmt: skip
        one, many = a.get("steps_per_s_one_viewer"), a.get("steps_per_s_class") or a.get("steps_per_s_class_since_start")
        ratio = many / one if one and many else None
        span, same = a.get("class_steps"), a.get("one_viewer_same_steps")
        steps = f" (steps {span[0]:,}–{span[1]:,} of the run)" if span else ""
        invalid = span is None
        if span and (not same or same[1] - same[0] < 0.9 * (span[1] - span[0])):
            steps, invalid = steps + f"; the one viewer covered only steps {same or '–'} of them: raise --baseline", True
        if a.get("sessions_training_at_window_end", 0) < a["sessions"] - a["browsers"]:
            steps, invalid = steps + "; the run ended inside the window: raise --class-steps", True
        rows.append((f"(a) shared run's speed with {a['sessions']} viewers ≥ 70 % of one viewer's",
                     f"{_fmt(many, ' steps/s', 1)} vs {_fmt(one, ' steps/s', 1)}: {_fmt(None if ratio is None else 100 * ratio, ' %', 0)}"
                     f"{steps}; pages showing the run training at the window's end: "
                     f"{a.get('sessions_training_at_window_end')} of {a['sessions'] - a['browsers']}",
                     "not measured" if invalid else "met" if ratio is not None and ratio >= 0.7
                     else f"missed by {_fmt(None if ratio is None else 70 - 100 * ratio, ' points', 0)}"))  # fmt: skip
        r1, rn = a.get("reported_rate_one_viewer_median"), a.get("reported_rate_class_median")
        if r1 and rn:
            rows.append(("(a) the same from the rate the run reports on its page (median)",
                         f"{rn:,.0f} vs {r1:,.0f} steps/s: {100 * rn / r1:.0f} %", "reported"))  # fmt: skip
    if b:
        waits = [x for x in b["wait_s_light"] + b["wait_s_browser"] if x is not None]
        errors = b["errors_light"] + b["errors_browser"]
        statuses = b["final_status_light"] + b["final_status_browser"]
        served = sum(1 for s in statuses if s.endswith("done"))
        queued = [p for p in b["places_light"] + b["places_browser"] if p]
        n_waited = sum(1 for w in waits if w > 3)
        rows.append(("(b) nobody sees an error", f"{len(errors)} errors", "met" if not errors else "missed"))
        rows.append((f"(b) the queue serves all {b['sessions']}", f"{served} of {len(statuses)} runs done in {_fmt(b['duration_s'], ' s', 0)}",
                     "met" if served == b["sessions"] else "missed"))  # fmt: skip
        rows.append(("(b) each waiting page shows its place", f"{len(queued)} pages showed a place; {n_waited} waited > 3 s",
                     "met" if len(queued) >= n_waited else "missed"))  # fmt: skip
        rows.append(("(b) wait from Start to the run training", f"median {_fmt(statistics.median(waits) if waits else None, ' s', 1)}, "
                     f"max {_fmt(max(waits) if waits else None, ' s', 1)}", "reported"))  # fmt: skip
        t = b.get("no_busy_thread_after_s")
        rows.append(("(c) no training thread within 30 s of everyone leaving",
                     f"{_fmt(t, ' s', 1)} (grace {b['grace_s']:g} s); busy threads before leaving: {len(b['busy_threads_before_leave'])}, "
                     f"all exited: {b['training_threads_exited']}",
                     "met" if t is not None and t <= 30 and b["training_threads_exited"] else "missed"))  # fmt: skip
        r0, r1 = b["rss_mb_warm"], b["rss_mb_after"]
        rows.append(("(c) server RSS back within 10 % of where it started",
                     f"{r0:.0f} MB before (b), {b['server_b'].get('rss_mb_max', 0):.0f} MB peak, {r1:.0f} MB after: {100 * (r1 / r0 - 1):+.0f} %",
                     "met" if abs(r1 / r0 - 1) <= 0.10 else f"missed by {100 * abs(r1 / r0 - 1) - 10:.0f} points"))  # fmt: skip
        w0, w1 = b.get("workers_rss_mb_warm", 0.0), b.get("workers_rss_mb_after", 0.0)
        if w0 or w1:  # GAN_DEMO_TRAIN_IN=process: the training workers are the server's child processes
            p0, p1 = b["total_pss_mb_warm"], b["total_pss_mb_after"]
            rows.append(("(c) the same for the server with its training workers (PSS: shared pages counted once)",
                         f"{p0:.0f} MB before (b), {b['server_b'].get('total_pss_mb_max', 0):.0f} MB peak, "
                         f"{p1:.0f} MB after: {100 * (p1 / p0 - 1):+.0f} % (workers' RSS {w0:.0f} → {w1:.0f} MB)",
                         "met" if abs(p1 / p0 - 1) <= 0.10 else f"missed by {100 * abs(p1 / p0 - 1) - 10:.0f} points"))  # fmt: skip
    if a:
        sc = a["server_class"]
        rss = sc.get("rss_mb_max")
        rows.append((f"(d) {a['sessions']} sessions watching: server RSS < 2 GB", f"max {_fmt(rss, ' MB', 0)}",
                     "met" if rss is not None and rss < 2048 else "missed"))  # fmt: skip
        if sc.get("workers_max"):
            pss = sc.get("total_pss_mb_max")
            rows.append((f"(d) the same with its {sc['workers_max']} training workers (PSS of all, shared pages once)",
                         f"max {_fmt(pss, ' MB', 0)} (RSS summed over the processes: {_fmt(sc.get('total_rss_mb_max'), ' MB', 0)})",
                         "met" if pss is not None and pss < 2048 else "missed"))  # fmt: skip
        rows.append(("(d) fragment rerun (send → script_finished), p95", f"p95 {_fmt(a['fragment_p95_s'], ' s')}, median "
                     f"{_fmt(a['fragment_p50_s'], ' s')} over {a['fragment_reruns']} reruns (interval 0.5 s)", "reported"))  # fmt: skip
        sc = a["server_class"]
        rows.append(("(d) server while watching", f"CPU {_fmt(sc.get('cpu_cores_mean'), ' cores', 2)} mean, threads ≤ {sc.get('threads_max')}", "reported"))
    lines = ["| scenario / goal | measured | |", "|---|---|---|"] + [f"| {g} | {m} | {v} |" for g, m, v in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=30, help="sessions per scenario (browsers included)")
    ap.add_argument("--browsers", type=int, default=3, help="of which real chromium tabs (0: light sessions only)")
    ap.add_argument("--browser-procs", type=int, default=1, help="worker processes the browser tabs are spread over")
    ap.add_argument("--clients-nice", type=int, default=0, choices=range(20), metavar="0-19",
                    help="run the clients (the light sessions in this process, the chromium tabs) at this lower "
                         "CPU priority (nice, and their scheduling group's), and the server and the sampler in "
                         "sessions and scheduling groups of their own: on the server's machine the clients then "
                         "take only the CPU that the server and its training leave, as if they ran elsewhere; "
                         "0: no change")
    ap.add_argument("--preset", default="healthy-grid25", help="the toy preset link of (a) and (d)")
    ap.add_argument("--queue-preset", default="mode-collapse", help="the toy preset of (b) and (c) (its steps are set)")
    ap.add_argument("--steps", type=int, default=100, help="steps of each run in (b)")
    ap.add_argument("--max-runs", type=int, default=2, help="GAN_DEMO_MAX_RUNS")
    ap.add_argument("--grace", type=float, default=5, help="GAN_DEMO_RECONNECT_GRACE_S (60 in production)")
    ap.add_argument("--spread", type=float, default=10, help="seconds over which the sessions press Start")
    ap.add_argument("--baseline", type=float, default=50,
                    help="seconds the one-viewer run trains (it must reach the steps the class's window covers)")
    ap.add_argument("--class-steps", type=int, default=150_000,
                    help="steps typed into every session of (a)/(d), the one viewer's too, so that the shared run "
                         "trains through the whole window (the preset's own 26,000 end inside it at ~1,100 steps/s); "
                         "0: the preset's")
    ap.add_argument("--watch", type=float, default=30, help="seconds the class watches in (d)")
    ap.add_argument("--server-option", action="append", default=[], metavar="KEY=VALUE",
                    help="a Streamlit config option for the server, e.g. runner.postScriptGC=false (repeatable)")
    ap.add_argument("--train-in", choices=("process", "thread"), default="process",
                    help="GAN_DEMO_TRAIN_IN: runs train in worker processes (the app's default) or server threads")
    ap.add_argument("--only", choices=("ad", "bc"), help="run one server's scenarios only")
    ap.add_argument("--out", type=Path, default=Path("bench/load/results/load.json"))
    args = ap.parse_args(argv)
    try:
        protocol.probe()
    except protocol.ProtocolMismatch as e:
        print(e, file=sys.stderr)
        return 2
    env = {"GAN_DEMO_MAX_RUNS": str(args.max_runs), "GAN_DEMO_RECONNECT_GRACE_S": f"{args.grace:g}",
           "GAN_DEMO_RUNS_PER_SESSION": "1", "GAN_DEMO_TRAIN_IN": args.train_in}  # fmt: skip
    os.environ["BENCH_CLIENTS_NICE"] = str(args.clients_nice)  # read by the browser workers and server.Server
    if args.clients_nice:
        # the light sessions (this process) too: its scheduling group (autogroup; not os.nice, which the
        # servers would inherit). The servers and the sampler start in sessions, and groups, of their own.
        try:
            with open("/proc/self/autogroup", "w") as f:
                f.write(str(args.clients_nice))
        except OSError:
            print("no scheduling groups (autogroup) here: the light sessions keep their priority", file=sys.stderr)
    bad = [o for o in args.server_option if "=" not in o]
    if bad:
        print(f"--server-option wants KEY=VALUE (e.g. runner.postScriptGC=false), not {', '.join(bad)}", file=sys.stderr)
        return 2
    options = dict(o.split("=", 1) for o in args.server_option)
    logs = args.out.parent
    result = {"command": " ".join(["python -m bench.load", *(argv if argv is not None else sys.argv[1:])]),
              "env": env, "server_options": options, "uptime_start": load_average(), "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}  # fmt: skip
    a = b = {}
    if args.only in (None, "ad"):
        a = scenarios.class_on_one_link(args.sessions, args.browsers, args.browser_procs, args.preset, args.spread,
                                        args.baseline, args.watch, env, logs, options, args.class_steps or None)  # fmt: skip
        result["a_d"] = a
    if args.only in (None, "bc"):
        b = scenarios.queue_then_leave(args.sessions, args.browsers, args.browser_procs, args.queue_preset, args.steps,
                                       args.spread, env, logs, options=options)  # fmt: skip
        b["grace_s"] = args.grace
        result["b_c"] = b
    result["uptime_end"] = load_average()
    result["table"] = table(a, b)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str))
    print(result["table"])
    print(f"\nload average: start {result['uptime_start']}\n              end   {result['uptime_end']}\nraw figures: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
