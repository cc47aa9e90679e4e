"""Does the app's update path learn from ratings? (issue 4)

Hold out ~10% of the users with >= 10 positives, train without them, then replay 5 of each
held-out user's positive ratings one at a time through the service's `rate` +
`update_model` (the app's path), and rank the rest of their positives: Recall@20 normalised
by min(|rest|, 20). Baselines on the same users and the same 5 items: most-popular, EASE
fitted on the training users, and a training-free LightGCN fold-in (user = mean of the 5
items' propagated embeddings).

The live model's background catch-up (`LiveModel.catch_up`) lands after each replayed rating
(`--catch-up each`, the default: as in the app when a user takes longer than its delay between
ratings), so the figure does not depend on timing; `--catch-up background` leaves it to the
app's timer (the figure then varies with when it lands).

    .venv/bin/python benchmarks/bench_learning.py [--data DIR] [--users 60] [--catch-up each] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "ml-latest-small"


EASE_LAMBDA = 100.0  # the EASE


def normalised_recall(top: np.ndarray, rest: set[int]) -> float:
    return len(rest.intersection(top.tolist())) / min(len(rest), 20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--users", type=int, default=60, help="held-out users")
    parser.add_argument("--replay", type=int, default=5, help="ratings replayed per user")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, help="reuse (or write) the hold-out model checkpoint here")
    parser.add_argument(
        "--catch-up",
        choices=("each", "background"),
        default="each",
        help="when the background catch-up lands: after each rating (default), or on the app's timer",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.data / "ratings.csv").is_file() and not (args.data / "u.data").is_file():
        sys.exit(f"no dataset at {args.data}")

    import torch

    from tui_recommender.app.model_source import ModelSource, SourceKind
    from tui_recommender.app.service import RecommenderService
    from tui_recommender.config.settings import Settings
    from tui_recommender.core.rating_scale import POSITIVE_THRESHOLD
    from tui_recommender.data.movielens import load_dataset
    from tui_recommender.engine.baselines.ease import EASE
    from tui_recommender.engine.checkpoint import load_checkpoint, save_checkpoint
    from tui_recommender.engine.evaluation import genre_matrix
    from tui_recommender.engine.graph import InteractionGraph
    from tui_recommender.engine.lightgcn.model import mean_weights
    from tui_recommender.engine.lightgcn.training import train_checkpoint
    from tui_recommender.engine.metrics import miscalibration_at_k
    from tui_recommender.engine.ranking import item_norms, new_user_vector, norm_exponents
    from tui_recommender.engine.ranking import scores as rank_scores
    from tui_recommender.storage.database import RatingsStore

    torch.set_num_threads(2)
    rng = np.random.default_rng(args.seed)
    data = load_dataset(args.data)
    ratings = data.ratings
    pos = ratings[ratings["rating"] >= POSITIVE_THRESHOLD]
    counts = pos.groupby("userId").size()
    eligible = counts.index[counts >= 10].to_numpy()
    held = np.sort(rng.choice(eligible, size=min(args.users, len(eligible)), replace=False))
    train_ratings = ratings[~ratings["userId"].isin(held)].reset_index(drop=True)
    train_data = dataclasses.replace(data, ratings=train_ratings, fingerprint=data.fingerprint + "-holdout")

    t0 = time.perf_counter()
    if args.cache and args.cache.is_file():
        checkpoint = load_checkpoint(args.cache)
    else:
        checkpoint, _ = train_checkpoint(train_data, train_ratings)
        if args.cache:
            save_checkpoint(checkpoint, args.cache)
    train_seconds = time.perf_counter() - t0

    items = data.movies.index.to_numpy()
    item_index = {m: i for i, m in enumerate(items)}
    n_users_ckpt = checkpoint.n_users
    item_final = checkpoint.final[n_users_ckpt:]
    train_pos = train_ratings[train_ratings["rating"] >= POSITIVE_THRESHOLD]
    popularity = np.bincount([item_index[m] for m in train_pos["movieId"]], minlength=len(items)).astype(float)
    user_rows = {u: i for i, u in enumerate(checkpoint.user_ids)}
    if not set(train_pos["userId"].unique()) <= user_rows.keys() or set(held) & user_rows.keys():
        sys.exit(f"{args.cache} was trained for another hold-out (--users / --seed); delete it or pass another --cache")
    tu = np.array([user_rows[u] for u in train_pos["userId"]])
    ti = np.array([item_index[m] for m in train_pos["movieId"]])
    genres = genre_matrix(data)
    ease = EASE(EASE_LAMBDA, min_count=5)
    ease.fit(InteractionGraph.from_pairs(n_users_ckpt, len(items), tu, ti))
    scoring = checkpoint.config.scoring
    norms = item_norms(item_final)
    new_user_p = norm_exponents(args.replay, scoring)  # as the app scores a user with this many positives
    # The items' layers 0..K-1 over the training graph, for the exact new-user propagation.
    graph = InteractionGraph.from_pairs(n_users_ckpt, len(items), tu, ti)
    adj, layer, item_layers = graph.normalized_adjacency(), torch.as_tensor(checkpoint.ego), []
    for _ in range(checkpoint.config.n_layers + 1):
        item_layers.append(layer[n_users_ckpt:].numpy())
        layer = adj @ layer
    layer_weights = checkpoint.config.layer_weights or mean_weights(checkpoint.config.n_layers)
    item_degrees = np.bincount(ti, minlength=len(items)).astype(np.float64)

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.resolve(data=args.data, state_dir=tmp)
        store = RatingsStore(settings.ratings_db(train_data.name))
        source = ModelSource(SourceKind.TRAINED, args.cache or Path(tmp))
        service = RecommenderService(settings, train_data, store, checkpoint, source)
        if args.catch_up == "each":
            service.model.close()  # no timer: the loop below runs each catch-up itself
        names = (
            "most-popular",
            f"EASE (lambda {EASE_LAMBDA:g}, 5 items)",
            "fold-in: mean of propagated rows",
            "fold-in: exact propagation",
            "update path (app)",
        )
        scores = {name: [] for name in names}
        tops = {name: [] for name in names}
        histories = []
        update_seconds = []
        for done, user in enumerate(held):
            if done % 10 == 0:
                print(f"  user {done}/{len(held)}", file=sys.stderr, flush=True)
            mine = pos[pos["userId"] == user].sample(frac=1.0, random_state=int(rng.integers(1 << 31)))
            replay, rest = mine.iloc[: args.replay], set(mine["movieId"].iloc[args.replay :].tolist())
            history = np.array([item_index[m] for m in replay["movieId"]])
            histories.append(history)

            def rows_top(s, history=history):
                return np.argsort(-np.where(np.isin(np.arange(len(items)), history), -np.inf, s), kind="stable")[:20]

            exact = new_user_vector(item_layers, item_degrees, history, layer_weights)
            for name, s in zip(
                names[:4],
                (
                    popularity,
                    ease.scores(
                        np.zeros(1, dtype=np.int64), InteractionGraph.from_pairs(1, len(items), 0 * history, history)
                    )[0],
                    rank_scores(item_final, norms, item_final[history].mean(0), new_user_p),
                    rank_scores(item_final, norms, exact, new_user_p),
                ),
            ):
                top = rows_top(s)
                tops[name].append(top)
                scores[name].append(normalised_recall(items[top], rest))
            service.create_user(int(user))
            for movie, stars in zip(replay["movieId"], replay["rating"]):
                service.rate(int(user), int(movie), float(stars))
                started = time.perf_counter()
                service.update_model()
                update_seconds.append(time.perf_counter() - started)
                if args.catch_up == "each":
                    service.model.catch_up()
            top = np.array([r.movie.movie_id for r in service.recommend(int(user), k=20)])
            scores["update path (app)"].append(normalised_recall(top, rest))
            tops["update path (app)"].append(np.array([item_index[m] for m in top]))
        service.close()

    report = {
        "users": len(held),
        "replayed_per_user": args.replay,
        "recall@20_normalised": {name: round(float(np.mean(v)), 4) for name, v in scores.items()},
        # p: the genres of the 5 rated movies (all the model knows of the user)
        "miscalibration@20": {
            name: round(miscalibration_at_k(np.array(t), histories, genres), 4) for name, t in tops.items()
        },
        "arp@20": {name: round(float(popularity[np.array(t)].mean()), 1) for name, t in tops.items()},
        "scoring": scoring,
        "catch_up": args.catch_up,
        "train_seconds": round(train_seconds, 1),
        "update_seconds_p50": round(float(np.percentile(update_seconds, 50)), 3),
        "update_seconds_p95": round(float(np.percentile(update_seconds, 95)), 3),
        "training": checkpoint.metrics,
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"{len(held)} held-out users, {args.replay} ratings replayed each; model trained in {train_seconds:.0f} s"
        )
        for name, value in report["recall@20_normalised"].items():
            print(
                f"  {name:<34} Recall@20 (normalised) {value:.4f}  miscalibration@20 {report['miscalibration@20'][name]:.4f}  ARP@20 {report['arp@20'][name]:.1f}"
            )
        print(f"  update_model: p50 {report['update_seconds_p50']:.3f} s, p95 {report['update_seconds_p95']:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
