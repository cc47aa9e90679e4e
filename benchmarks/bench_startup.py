"""Start-up of the app (issue 3): how long until the first screen takes keys, and how long
after a known user ID is submitted until the first recommendations are in the table.

Each round runs the real app headless (Textual's `run_test`) in a fresh Python process,
so imports are paid as a user pays them. The ID is typed the moment the first screen
takes keys (the worst case: the model is still loading). The clock starts at the child's first line
(interpreter start-up itself, ~30 ms, is not counted). The dataset's shipped checkpoint
is used, as on a first run, or `--checkpoint PATH`; the state dir is a fresh temporary one.
`--data` is any dataset the app reads (a folder or zip of any MovieLens layout). Each
child's peak RSS (its VmHWM) is reported too, and its CPU seconds (all threads) from its
start until the recommendations are in: on a machine shared with other work, the wall
times stretch, the CPU seconds much less (they near a quiet machine's wall time).

    .venv/bin/python benchmarks/bench_startup.py [--data DIR] [--checkpoint PATH] [--rounds 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tui_recommender.data.movielens import is_dataset

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "ml-latest-small"

CHILD = r"""
import time
t0 = time.perf_counter()
import asyncio, json, sys
from pathlib import Path

from tui_recommender.data.movielens import is_dataset
from tui_recommender.config.settings import Settings
from tui_recommender.tui.app import RecommenderApp
from tui_recommender.tui.components.movie_table import MovieTable
from textual.widgets import Input

async def main():
    app = RecommenderApp(Settings.resolve(data=sys.argv[1], state_dir=sys.argv[2], checkpoint=sys.argv[4] or None))
    async with app.run_test(size=(80, 24)) as pilot:
        while not isinstance(app.focused, Input):
            await asyncio.sleep(0.005)
        first_screen = time.perf_counter() - t0
        await pilot.press(*sys.argv[3])
        submitted = time.perf_counter()
        await pilot.press("enter")
        while True:
            tables = app.screen.query(MovieTable)
            if tables and tables.first().row_count > 0:
                break
            await asyncio.sleep(0.005)
        first_recs = time.perf_counter() - submitted
        cpu_until_recs = time.process_time()  # every thread's CPU seconds: what a quiet machine's wall time nears
        await pilot.press("ctrl+q")
    peak_mb = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
    print(json.dumps({"first_screen_s": first_screen, "first_recommendations_s": first_recs, "cpu_until_recommendations_s": cpu_until_recs, "peak_rss_mb": peak_mb}))

asyncio.run(main())
"""


def run_app(data: Path, user: str, checkpoint: Path | None = None) -> dict:
    """One round in a fresh process with a fresh state dir: its first_screen_s,
    first_recommendations_s and peak_rss_mb; a failing child ends the benchmark."""
    with tempfile.TemporaryDirectory() as state:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(data), state, user, str(checkpoint or "")],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT,
        )
    if out.returncode != 0:
        raise SystemExit(f"bench_startup: the app failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="a folder or zip of any MovieLens layout")
    parser.add_argument("--checkpoint", type=Path, help="the model to open (default: the shipped weights)")
    parser.add_argument("--user", default="1")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not is_dataset(args.data):
        print(f"no MovieLens dataset at {args.data}", file=sys.stderr)
        return 2
    runs = [run_app(args.data, args.user, args.checkpoint) for _ in range(args.rounds)]
    report = {
        key: {"median": round(statistics.median(r[key] for r in runs), 3), "max": round(max(r[key] for r in runs), 3)}
        for key in ("first_screen_s", "first_recommendations_s", "cpu_until_recommendations_s", "peak_rss_mb")
    }
    report["rounds"] = args.rounds
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{args.data.name}, {args.rounds} fresh processes, 80x24 headless")
        print(
            f"  first screen takes keys:            median {report['first_screen_s']['median']:.2f} s, max {report['first_screen_s']['max']:.2f} s (target < 1.5 s)"
        )
        print(
            f"  ID submitted -> recommendations in: median {report['first_recommendations_s']['median']:.2f} s, max {report['first_recommendations_s']['max']:.2f} s (target < 3 s)"
        )
        print(f"  peak RSS:                           max {report['peak_rss_mb']['max']:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
