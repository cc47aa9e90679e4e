"""Latency of the service's reads on ml-latest-small: `recommend(user, genres=["Comedy",
"Drama"], k=20)` for random known users, and `search_movies` for words taken from random
titles. Target: recommend median < 20 ms.

The service is opened in a temporary state dir (see `harness.checkpoint_settings` for
where its model comes from); the first call after opening is reported on its own.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import harness
import numpy as np

TARGET_MEDIAN_MS = 20.0
GENRES = ["Comedy", "Drama"]
K = 20


def time_calls(calls) -> list[float]:
    seconds = []
    for call in calls:
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    cli = harness.parser(__doc__.split("\n\n")[0])
    harness.add_checkpoint_options(cli)
    cli.add_argument("--calls", type=int, default=100, help="timed calls per operation (default 100)")
    args = cli.parse_args()
    folder = harness.dataset_folder(args)
    harness.set_threads(args)
    before = harness.machine()

    from tui_recommender.app.service import RecommenderService

    with tempfile.TemporaryDirectory(prefix="bench-recommend-") as tmp:
        settings, model_from = harness.checkpoint_settings(args, folder, Path(tmp))
        open_seconds, service = harness.timed(lambda: RecommenderService.open(settings))
        try:
            rng = np.random.default_rng(0)
            known = np.sort(service.data.ratings["userId"].unique())
            users = rng.choice(known, size=args.calls + 1)
            first_seconds, _ = harness.timed(lambda: service.recommend(int(users[0]), genres=GENRES, k=K))
            recommend = time_calls(lambda u=int(u): service.recommend(u, genres=GENRES, k=K) for u in users[1:])
            recommend_all = time_calls(lambda u=int(u): service.recommend(u, k=K) for u in users[1:])
            titles = service.data.movies["title"].to_numpy()
            words = [max(str(t).split(), key=len) for t in rng.choice(titles, size=args.calls)]
            search = time_calls(lambda w=w: service.search_movies(w) for w in words)
            source = str(service.model_source)
        finally:
            service.close()

    result = {
        "benchmark": "recommend",
        "machine": before,
        "load_average_1m_after": harness.machine()["load_average_1m"],
        "model": {"source": source, "prepared": model_from},
        "open_s": round(open_seconds, 3),
        "first_recommend_ms": round(first_seconds * 1e3, 3),
        "recommend_genres": harness.stats(recommend),
        "recommend_all_genres": harness.stats(recommend_all),
        "search_movies": harness.stats(search),
        "target_median_ms": TARGET_MEDIAN_MS,
        "met": harness.stats(recommend)["median_ms"] < TARGET_MEDIAN_MS,
    }
    rows = [
        [f"recommend(genres={GENRES}, k={K})", *_cells(result["recommend_genres"])],
        [f"recommend(k={K}), all genres", *_cells(result["recommend_all_genres"])],
        ["search_movies(word)", *_cells(result["search_movies"])],
    ]
    text = [
        f"Service reads, ml-latest-small, {args.calls} calls each, {args.threads} threads, load {before['load_average_1m']} -> {result['load_average_1m_after']}",
        f"model: {source}; {model_from}; open {open_seconds:.2f} s; first recommend {first_seconds * 1e3:.1f} ms",
        harness.table(rows, ["call", "median ms", "p95 ms", "max ms"]),
        f"recommend median {result['recommend_genres']['median_ms']:.2f} ms (target < {TARGET_MEDIAN_MS:g} ms): {'met' if result['met'] else 'MISSED'}",
    ]
    harness.emit(args, "\n".join(text), result)


def _cells(s: dict) -> list[str]:
    return [f"{s['median_ms']:.2f}", f"{s['p95_ms']:.2f}", f"{s['max_ms']:.2f}"]


if __name__ == "__main__":
    main()
