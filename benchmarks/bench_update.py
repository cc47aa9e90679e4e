"""Latency from a rating to the refreshed list (issue 17), at three sizes in one run:
ml-latest-small, the LightGCN paper's Gowalla graph and an ml-32m-shaped synthetic set.

Each round: a random known user `rate()`s a random movie they have not rated, with 4
stars (a new positive: every round changes the graph and the user's row), or, one round
in ten, a new profile rates its first movie; then `update_model()`, then `recommend(k=20)`.
The service runs as the app does, with its background catch-up (`LiveModel.catch_up`, the
whole graph propagated, batched) on; after the rounds one catch-up of everything is timed
on its own. ml-latest-small uses its shipped weights; Gowalla and ml-32m use a checkpoint of
the shipped recipe's width with random rows: latency does not depend on the values.

Gowalla is read from a folder holding the paper's `s_adj_mat.npz` (its user x item block is
the train set) and written as a MovieLens-layout folder (every edge 5 stars, dummy titles);
the ml-32m shape is written by `bench_open.write_dataset` (200,948 users, 87,585 movies,
32,000,204 ratings). Both go to `--work` (default a temporary folder; pass one to reuse
them between runs). ml-32m needs ~6 GB: run under the machine's memory lock.

    .venv/bin/python benchmarks/bench_update.py [--data DIR] [--gowalla DIR] [--no-ml32m]
        [--work DIR] [--rounds 40] [--json]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import harness
import numpy as np

TARGET_P95_MS = 150.0
TARGET_RATIO = 2.0
K = 20
GENRES = ("Action", "Comedy", "Drama", "Romance", "Thriller", "Documentary")


def gowalla_folder(source: Path, out: Path) -> Path:
    """The Gowalla train graph as a MovieLens-layout folder in `out` (written once)."""
    if (out / "ratings.csv").is_file():
        return out
    import scipy.sparse

    adj = scipy.sparse.load_npz(source / "s_adj_mat.npz").tocsr()
    n_users = sum(1 for _ in (source / "test.txt").open())  # one line per user
    block = adj[:n_users, n_users:].tocoo()
    out.mkdir(parents=True, exist_ok=True)
    with (out / "ratings.csv").open("w") as f:
        f.write("userId,movieId,rating,timestamp\n")
        f.writelines(f"{u + 1},{i + 1},5.0,1262304000\n" for u, i in zip(block.row.tolist(), block.col.tolist()))
    with (out / "movies.csv").open("w") as f:
        f.write("movieId,title,genres\n")
        f.writelines(f"{i + 1},Place {i + 1} (2010),{GENRES[i % len(GENRES)]}\n" for i in range(block.shape[1]))
    return out


def random_checkpoint(folder: Path, out: Path) -> Path:
    """A checkpoint of the shipped recipe's width with random rows for `folder` (once)."""
    if not out.is_file():
        from bench_open import write_checkpoint

        write_checkpoint(folder, out)
    return out


def measure(name: str, folder: Path, checkpoint: Path | None, state: Path, rounds: int, seed: int) -> dict:
    """Rounds of rate -> update_model -> recommend on one dataset (see the module docstring)."""
    from tui_recommender.app.service import RecommenderService
    from tui_recommender.config.settings import Settings

    started = time.perf_counter()
    service = RecommenderService.open(Settings.resolve(data=folder, state_dir=state, checkpoint=checkpoint))
    opened = time.perf_counter() - started
    parts: dict[str, list[float]] = {"rate": [], "update_model": [], "recommend": [], "total": []}
    try:
        rng = np.random.default_rng(seed)
        ratings = service.data.ratings
        known = ratings["userId"].unique()
        movie_ids = service.data.movies.index.to_numpy()
        for k in range(rounds + 1):  # the first warms up, not counted
            if k % 10 == 5:
                user = service.create_user()
                mine = set()
            else:
                user = int(rng.choice(known))
                mine = set(ratings["movieId"].to_numpy()[ratings["userId"].to_numpy() == user].tolist())
            movie = int(rng.choice(movie_ids))
            while movie in mine:
                movie = int(rng.choice(movie_ids))
            t0 = time.perf_counter()
            service.rate(user, movie, 4.0)
            t1 = time.perf_counter()
            report = service.update_model()
            t2 = time.perf_counter()
            service.recommend(user, k=K)
            t3 = time.perf_counter()
            if report.n_ratings < 1 or report.discarded:
                raise SystemExit(f"benchmark: {name}: the update applied {report.n_ratings} ratings ({report})")
            if k:
                for part, seconds in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t3 - t0)):
                    parts[part].append(seconds)
        t0 = time.perf_counter()
        getattr(service.model, "catch_up", lambda: None)()  # the code before the catch-up (a baseline run) has none
        catch_up = time.perf_counter() - t0
        t0 = time.perf_counter()
        service.save()
        save = time.perf_counter() - t0
    finally:
        service.close()
    return {
        "dataset": name,
        "users": len(service.model.snapshot.users),
        "movies": len(service.model.snapshot.item_emb),
        "edges": service.model.snapshot.graph.n_edges,
        "open_s": round(opened, 1),
        "parts": {part: harness.stats(seconds) for part, seconds in parts.items()},
        "catch_up_all_s": round(catch_up, 2),
        "save_s": round(save, 2),
    }


def main() -> None:
    cli = harness.parser(__doc__.split("\n\n")[0])
    cli.add_argument("--gowalla", type=Path, default=Path("/tmp/gowalla"), help="folder with s_adj_mat.npz, test.txt")
    cli.add_argument("--no-ml32m", action="store_true", help="leave out the ml-32m shape")
    cli.add_argument("--work", type=Path, help="where the generated datasets and checkpoints go (and are reused)")
    cli.add_argument("--rounds", type=int, default=40, help="timed rounds per dataset (default 40)")
    args = cli.parse_args()
    small = harness.dataset_folder(args)
    harness.set_threads(args)
    before = harness.machine()

    from bench_open import SHAPES, write_dataset

    with tempfile.TemporaryDirectory(prefix="bench-update-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        sets: list[tuple[str, Path, Path | None]] = [("ml-latest-small", small, None)]
        if (args.gowalla / "s_adj_mat.npz").is_file():
            folder = gowalla_folder(args.gowalla, work / "gowalla")
            sets.append(("gowalla", folder, random_checkpoint(folder, work / "gowalla.npz")))
        if not args.no_ml32m:
            folder = work / "ml-32m"
            if not (folder / "ratings.csv").is_file():
                write_dataset(SHAPES["ml-32m"], folder)
            sets.append(("ml-32m shape", folder, random_checkpoint(folder, work / "ml-32m.npz")))
        results = []
        for k, (name, folder, checkpoint) in enumerate(sets):
            results.append(measure(name, folder, checkpoint, Path(tmp) / f"state-{k}", args.rounds, seed=k))
            print(f"  {name}: done, load {harness.machine()['load_average_1m']}", file=sys.stderr, flush=True)

    p95 = [r["parts"]["total"]["p95_ms"] for r in results]
    ratio = max(p95) / min(p95)
    result = {
        "benchmark": "update",
        "machine": before,
        "load_average_1m_after": harness.machine()["load_average_1m"],
        "rounds": args.rounds,
        "datasets": results,
        "p95_ratio_largest_to_smallest": round(ratio, 2),
        "met": max(p95) <= TARGET_P95_MS and ratio <= TARGET_RATIO,
    }
    rows = [
        [
            r["dataset"],
            f"{r['users']:,} x {r['movies']:,}, {r['edges']:,} edges",
            *(f"{r['parts'][part]['median_ms']:.1f} / {r['parts'][part]['p95_ms']:.1f}" for part in r["parts"]),
            f"{r['catch_up_all_s']:.2f}",
            f"{r['save_s']:.2f}",
        ]
        for r in results
    ]
    header = ["dataset", "users x movies", "rate p50/p95 ms", "update", "recommend", "total", "catch-up s", "save s"]
    text = [
        f"rating -> refreshed list, {args.rounds} rounds each, {args.threads} threads, "
        f"load {before['load_average_1m']} -> {result['load_average_1m_after']}",
        harness.table(rows, header),
        f"total p95 largest / smallest: {ratio:.2f} (target <= {TARGET_RATIO:g}: "
        f"{'met' if ratio <= TARGET_RATIO else 'MISSED'}); every p95 <= {TARGET_P95_MS:g} ms: "
        f"{'met' if max(p95) <= TARGET_P95_MS else 'MISSED'}",
    ]
    harness.emit(args, "\n".join(text), result)


if __name__ == "__main__":
    main()
