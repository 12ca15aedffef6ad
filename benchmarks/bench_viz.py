"""How long one Step takes to show in the browser view, in one run.

    python benchmarks/bench_viz.py            # 20 measured steps per tier
    python benchmarks/bench_viz.py --steps 40 --json results/bench_viz.json

For each tier the script starts the view's server (the same command as
``ics-abm viz``), opens the page in headless Chromium (Debian's
/usr/bin/chromium, or $ICS_ABM_CHROMIUM) and, after 3 warm-up steps, clicks
Step N times. Each step is timed inside the page: from the click
(``performance.now()``) until the month counter, the network picture and all
four charts show the new month, plus two animation frames so that the frame
is painted. Reported: median, 90th percentile and maximum, in ms.

For scale, the same run measures the Python side alone: one Step of the same
page rendered in this process with ``solara.render`` (model step + re-render,
no browser, no websocket), median over the same number of steps. The ratio
browser/Python shows how much of the latency is transport and drawing.

Tiers: (a) the default ICS (56 organisations); (b) one ICS with n_vcse=900
(about 1,000 organisations). Goal: (a) median <= 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from viz.server import APP, background_server  # noqa: E402

CHROMIUM = os.environ.get("ICS_ABM_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
GOAL_MS = 300.0
TIERS = {
    "a": ("default ICS", {}),
    "b": ("one ICS, n_vcse=900", {"n_vcse": 900}),
}

STEP_JS = """async (month) => {
    const ready = () => {
        const counter = document.querySelector('.ics-month-counter');
        const net = document.querySelector('.ics-network');
        const charts = [...document.querySelectorAll('.ics-chart')];
        return counter.textContent.trim() === `Month ${month}` && net.dataset.month === String(month)
            && charts.length === 3 && charts.every(c => c.dataset.month === String(month));
    };
    const frame = () => new Promise(r => requestAnimationFrame(r));
    const t0 = performance.now();
    document.querySelector('.ics-step').click();
    while (!ready()) await frame();
    await frame(); await frame();
    return performance.now() - t0;
}"""

APP_TEMPLATE = """import solara
from viz.app import Layout  # noqa: F401
from viz.app import Page as _Page


@solara.component
def Page():
    _Page(initial={settings!r})
"""


def browser_latency(settings: dict, steps: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        app = APP if not settings else Path(tmp) / "app.py"
        if settings:
            app.write_text(APP_TEMPLATE.format(settings=settings), encoding="utf-8")
        with background_server(app=app) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(url)
            page.wait_for_function("() => document.querySelector('.ics-network') "
                                   "&& document.querySelector('.ics-network').dataset.month === '0'")
            page.wait_for_function("() => [...document.querySelectorAll('.ics-chart')]"
                                   ".every(c => c.dataset.month === '0')")
            times = []
            for month in range(1, steps + 4):
                ms = page.evaluate(STEP_JS, month)
                if month > 3:
                    times.append(ms)
            browser.close()
    return times


def python_latency(settings: dict, steps: int) -> list[float]:
    import ipyvuetify as v
    import solara

    from viz.app import Page

    box, rc = solara.render(Page(initial=settings), handle_error=False)
    button = rc.find(v.Btn, children=["Step"]).widget
    for _ in range(3):
        button.click()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        button.click()
        times.append(1000 * (time.perf_counter() - t0))
    rc.close()
    return times


def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p90_ms": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="measured steps per tier (default 20)")
    parser.add_argument("--tiers", default="ab", help="which tiers to run (default: ab)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"bench_viz: Chromium not found at {CHROMIUM} (set ICS_ABM_CHROMIUM)", file=sys.stderr)
        return 2
    rows = {}
    for key in args.tiers:
        label, settings = TIERS[key]
        browser = summary(browser_latency(settings, args.steps))
        python = summary(python_latency(settings, args.steps))
        rows[key] = {"tier": label, "settings": settings, "browser": browser, "python": python,
                     "ratio": round(browser["median_ms"] / max(python["median_ms"], 1e-9), 1)}
    print(f"Step -> shown in the browser, {args.steps} steps per tier (after 3 warm-up steps)")
    print(f"{'tier':<26}{'median':>9}{'p90':>9}{'max':>9}{'python':>9}{'ratio':>7}")
    for key, r in rows.items():
        b = r["browser"]
        print(f"({key}) {r['tier']:<22}{b['median_ms']:>7.0f}ms{b['p90_ms']:>7.0f}ms{b['max_ms']:>7.0f}ms"
              f"{r['python']['median_ms']:>7.0f}ms{r['ratio']:>6.1f}x")
    if "a" in rows:
        ok = rows["a"]["browser"]["median_ms"] <= GOAL_MS
        print(f"goal: default ICS median <= {GOAL_MS:.0f} ms: {'met' if ok else 'NOT met'}")
    if args.json:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        record = {
            "rerun": "python benchmarks/bench_viz.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "git_commit": commit, "python": platform.python_version(), "machine": platform.platform(),
            "cpus": os.cpu_count(), "chromium": CHROMIUM, "results": rows,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
