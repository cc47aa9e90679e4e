"""Seconds per training epoch at full MovieLens sizes (issue 18): the default recipe against
the recipe before it (every step 128 users against every movie), on the same synthetic data
in the same run. The positives are those of `bench_open.py`'s synthetic ml-1m, ml-10m and
ml-32m (same generator and seed; ratings >= the positive threshold), built in memory.

Each recipe runs in its own child process (so its peak RSS, VmHWM, is its own): the graph,
the model (dim 192), then one epoch of `full_softmax_epoch` as `train` builds it
(`lightgcn.plan.EpochPlan`), cut after `--steps` steps when given. A cut epoch's time is
extrapolated: the mean step (the first left out, it warms up) times the epoch's steps; the
per-step seconds are reported so their flatness can be checked.

    .venv/bin/python benchmarks/bench_scale.py [--shape ml-1m] [--steps N] [--recipe NAME] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import bench_open
import numpy as np

# name -> TrainConfig options on top of the defaults
RECIPES = {
    "before": {"epoch_steps": 2**24, "epoch_scores": 2**62},  # 128 users per step, every movie
    "now": {},
    "now, every movie": {"epoch_scores": 2**62},
}


def positives(shape: bench_open.Shape):
    """The positives of `bench_open.write_dataset(shape)` as an `InteractionGraph`: the
    same draws in the same order, without the files."""
    from tui_recommender.core.rating_scale import POSITIVE_THRESHOLD
    from tui_recommender.engine.graph import InteractionGraph

    rng = np.random.default_rng(0)
    rng.choice(np.arange(1, shape.movies * 3), size=shape.movies, replace=False)  # the movie ids
    users, movies = bench_open._pairs(shape, rng)
    half_stars = (
        rng.integers(1, 6, size=shape.ratings) * 2 if shape.whole_stars else rng.integers(1, 11, size=shape.ratings)
    )
    keep = half_stars >= 2 * POSITIVE_THRESHOLD
    return InteractionGraph(shape.users, shape.movies, users[keep], movies[keep])


def child(shape_name: str, recipe: str, max_steps: int | None, threads: int) -> dict:
    """One recipe's epoch on one shape, in this process (see the module docstring)."""
    import torch

    from tui_recommender.engine.lightgcn.epochs import full_softmax_epoch
    from tui_recommender.engine.lightgcn.model import LightGCN
    from tui_recommender.engine.lightgcn.plan import EpochPlan
    from tui_recommender.engine.lightgcn.sampling import PopularItems
    from tui_recommender.engine.train_config import TrainConfig

    torch.set_num_threads(threads)
    graph = positives(bench_open.SHAPES[shape_name])
    config = TrainConfig(**RECIPES[recipe]).sized(graph.n_users, graph.n_items, graph.n_edges)
    n_active = len(np.unique(graph.users))
    plan = EpochPlan.of(config, n_active, graph.n_items)
    torch.manual_seed(0)
    model = LightGCN(graph.n_users, graph.n_items, config.dim, config.n_layers, config.init_std)
    adj = graph.normalized_adjacency()
    optimizer = torch.optim.Adam(model.parameters(), lr=plan.lr)
    scored = (PopularItems(graph, correction=config.logq), plan.scored) if plan.scored else None
    times: list[float] = []
    last = [time.perf_counter()]

    def on_step(done: int, total: int) -> None:
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    started = time.perf_counter()
    last[0] = started
    loss = full_softmax_epoch(
        model, adj, optimizer, graph, np.random.default_rng(0), plan.user_batch, config.reg,
        lambda: max_steps is not None and len(times) >= max_steps, None, scored, on_step, config.cosine_temperature,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    steps = plan.steps(n_active)
    cut = len(times) < steps
    steady = times[1:] or times
    return {
        "shape": shape_name,
        "recipe": recipe,
        "users": graph.n_users,
        "movies": graph.n_items,
        "positives": graph.n_edges,
        "user_batch": plan.user_batch,
        "scored_movies": plan.scored or graph.n_items,
        "lr": round(plan.lr, 5),
        "steps_per_epoch": steps,
        "steps_run": len(times),
        "step_seconds": [round(t, 3) for t in times],
        "epoch_seconds": round(float(np.mean(steady)) * steps if cut else seconds, 2),
        "extrapolated": cut,
        "loss": round(loss, 4),
        "peak_rss_mb": round(int(Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0]) / 1024),
    }


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_argument("--shape", action="append", choices=sorted(bench_open.SHAPES), help="default: ml-1m")
    cli.add_argument("--recipe", action="append", choices=sorted(RECIPES), help="default: before and now")
    cli.add_argument("--steps", type=int, help="cut each epoch after this many steps (the epoch is extrapolated)")
    cli.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    cli.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    cli.add_argument("--child", nargs=2, metavar=("SHAPE", "RECIPE"), help=argparse.SUPPRESS)
    args = cli.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.steps, args.threads)))
        return 0
    load_before = os.getloadavg()[0]
    results = []
    for shape in args.shape or ["ml-1m"]:
        for recipe in args.recipe or ["before", "now"]:
            argv = [sys.executable, __file__, "--child", shape, recipe, "--threads", str(args.threads)]
            argv += ["--steps", str(args.steps)] if args.steps else []
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"bench_scale: {shape} {recipe} failed: {done.stderr.strip().splitlines()[-1:]}")
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            results[-1]["load_1min_after"] = os.getloadavg()[0]
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    for shape in args.shape or ["ml-1m"]:
        by = {r["recipe"]: r for r in results if r["shape"] == shape}
        if "before" in by and "now" in by:
            ratio = by["before"]["epoch_seconds"] / by["now"]["epoch_seconds"]
            print(f"{shape}: before / now = {ratio:.1f}x per epoch", file=sys.stderr)
    if args.json:
        print(json.dumps({"load_1min_before": load_before, "load_1min_after": os.getloadavg()[0], "results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
