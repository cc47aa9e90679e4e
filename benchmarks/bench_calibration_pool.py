"""What the genre-aware calibration pool costs a list at ml-32m's size (issue 19 item 2).

`ranked_lists.ranked_order` (the first 20 of a user's order, head calibrated) on a synthetic
catalogue of 87,585 movies whose genres are drawn with ml-latest-small's genre frequencies,
random scores with the documentaries 1 lower (a niche scoring deep), for a random user (5
liked movies) and a documentary lover (5 liked documentaries): the pool of the 200 best
scores alone (the code before) against it plus each agreed genre's best (`genre_best`), in
the same run on one BLAS thread, as the app does.

    .venv/bin/python benchmarks/bench_calibration_pool.py [--data DIR] [--rounds 40] [--json]
"""

from __future__ import annotations

from types import SimpleNamespace

import harness
import numpy as np

N_MOVIES = 87_585  # ml-32m


def main() -> int:
    cli = harness.parser(__doc__.splitlines()[0], threads=False)
    cli.add_argument("--rounds", type=int, default=40)
    args = cli.parse_args()
    folder = harness.dataset_folder(args)

    from tui_recommender.app.ranked_lists import ranked_order
    from tui_recommender.data.movielens import load_dataset
    from tui_recommender.engine.blas_threads import ONE_BLAS_THREAD
    from tui_recommender.engine.calibration import genre_rows, genre_weights

    movies = load_dataset(folder).movies
    names = sorted({g for gs in movies["genres"] for g in gs})
    frequency = np.array([np.mean([g in gs for gs in movies["genres"]]) for g in names])
    rng = np.random.default_rng(0)
    genres = rng.random((N_MOVIES, len(names))) < frequency
    weights = genre_weights(genres)
    pools = {
        "200 best (before)": SimpleNamespace(genre_weights=weights, genre_rows=None),
        "+ agreed genres' best": SimpleNamespace(genre_weights=weights, genre_rows=genre_rows(weights)),
    }
    documentary = genres[:, names.index("Documentary")]
    users = {
        "random user, 5 liked": rng.choice(N_MOVIES, 5, replace=False),
        "5 documentaries liked": rng.choice(np.flatnonzero(documentary), 5, replace=False),
    }
    result = {"machine": harness.machine(), "movies": N_MOVIES, "lists": {}}
    rows = []
    for user, liked in users.items():
        for pool, catalogue in pools.items():
            seconds, documentaries = [], []
            for _ in range(args.rounds):
                scores = rng.standard_normal(N_MOVIES).astype(np.float32) - documentary
                eligible = np.ones(N_MOVIES, dtype=bool)
                eligible[liked] = False
                with ONE_BLAS_THREAD:
                    took, order = harness.timed(lambda: ranked_order(scores, eligible, catalogue, liked, 20))  # noqa: B023
                seconds.append(took)
                documentaries.append(int(documentary[order].sum()))
            stats = harness.stats(seconds)
            result["lists"][f"{user}; {pool}"] = {**stats, "documentaries_in_top20": float(np.mean(documentaries))}
            rows.append([user, pool, stats["median_ms"], stats["p95_ms"], round(float(np.mean(documentaries)), 1)])
    result["load_average_1m_after"] = harness.machine()["load_average_1m"]
    text = harness.table(rows, ["user", "calibration pool", "median ms", "p95 ms", "documentaries in top 20"])
    harness.emit(args, f"{N_MOVIES} movies; load {result['machine']['load_average_1m']}\n{text}", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
