"""Steady lists for seasoned users, quick ones for new users (issue 19), on ml-latest-small
through the service (`rate`, `update_model`, `recommend`), in four parts:

1. The issue's cases: user 414 re-rates a film they had at 3.0 with 4, user 1 re-rates
   Toy Story with the 4.0 they already gave it: how many of the top 10 change, and the
   mean change of the scores of the movies in both lists.
2. Many users, one new rating each (4 stars, a movie with >= 10 positives they have not
   rated): top-10 overlap before and after, by the user's number of ratings, served at
   once and again after the catch-up (`LiveModel.catch_up`) has propagated it; and how
   much the untouched movies' scores moved together (|mean change| / std of the change).
3. New profiles rate five films of one genre, one at a time, each learnt at once and caught
   up before the next (as in the app when a user pauses): the genre's films in the top 10
   after each rating, for `bench_persona.PERSONAS` and for generated personas (per genre
   with >= 15 films of >= 20 positives, `--generated` profiles of 5 films drawn from its
   30 most liked), with how many of those see the count fall at some rating.

    .venv/bin/python benchmarks/bench_steadiness.py [--data DIR] [--users 150] [--generated 3] [--json]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import harness
import numpy as np
from bench_persona import PERSONAS, share

TOP = 10
BUCKETS = ((20, 49), (50, 99), (100, 299), (300, 10**6))  # ml-latest-small: every user has >= 20


def top_scores(service, user: int) -> dict[int, float]:
    return {r.movie.movie_id: r.score for r in service.recommend(user, k=TOP)}


def changed(before: dict[int, float], after: dict[int, float]) -> tuple[int, float | None]:
    """(movies of `before`'s top that left it, mean score change of the movies in both)."""
    common = set(before) & set(after)
    shift = float(np.mean([after[m] - before[m] for m in common])) if common else None
    return TOP - len(common), shift


def all_scores(service, user: int) -> np.ndarray:
    """The model's score of every movie for `user` (the served row's `ranking.scores`)."""
    from tui_recommender.app.live_model import user_scores
    from tui_recommender.core.rating_scale import POSITIVE_THRESHOLD
    from tui_recommender.storage.ratings import liked_movies

    ratings = service.ratings.of(user)
    liked = service.catalogue.items.indices(liked_movies(ratings, POSITIVE_THRESHOLD))
    return user_scores(service.model.snapshot, user, liked).astype(np.float64)


def issue_cases(service) -> dict:
    ratings = service.data.ratings
    mine = ratings[(ratings["userId"] == 414) & (ratings["rating"] == 3.0)]
    cases = {"user 414: a 3.0 film re-rated 4": (414, int(mine["movieId"].iloc[0]), 4.0)}
    cases["user 1: Toy Story re-rated with its 4.0"] = (1, 1, 4.0)
    out = {}
    for name, (user, movie, stars) in cases.items():
        before = top_scores(service, user)
        service.rate(user, movie, stars)
        service.update_model()
        left, shift = changed(before, top_scores(service, user))
        out[name] = {"left_top10": left, "mean_score_change": None if shift is None else round(shift, 4)}
    return out


def many_users(service, n_users: int, rng: np.random.Generator) -> dict:
    ratings = service.data.ratings
    counts = ratings.groupby("userId").size()
    positives = ratings[ratings["rating"] >= 3.0].groupby("movieId").size()
    candidates = positives.index[positives >= 10].to_numpy()
    users = rng.choice(counts.index.to_numpy(), size=min(n_users, len(counts)), replace=False)
    rows = []
    for user in users.tolist():
        seen = set(ratings.loc[ratings["userId"] == user, "movieId"].tolist())
        movie = int(rng.choice([m for m in candidates if m not in seen]))
        before, scores_before = top_scores(service, user), all_scores(service, user)
        service.rate(user, movie, 4.0)
        service.update_model()
        served, scores_after = top_scores(service, user), all_scores(service, user)
        if hasattr(service.model, "catch_up"):  # the code before the catch-up (a baseline run) has none
            service.model.catch_up()
        caught_up = top_scores(service, user)
        untouched = np.ones(len(scores_before), dtype=bool)
        untouched[service.catalogue.items.indices(np.array(list(seen | {movie})))] = False
        change = scores_after[untouched] - scores_before[untouched]
        rows.append(
            (
                int(counts[user]),
                TOP - changed(before, served)[0],
                TOP - changed(before, caught_up)[0],
                abs(float(change.mean())) / max(float(change.std()), 1e-12),
            )
        )
    table = np.array(rows, dtype=np.float64)
    out = {}
    for low, high in BUCKETS:
        part = table[(table[:, 0] >= low) & (table[:, 0] <= high)]
        if len(part):
            out[f"{low}-{high if high < 10**6 else ''}"] = {
                "users": len(part),
                "kept_of_10_served": round(float(part[:, 1].mean()), 2),
                "kept_of_10_after_catch_up": round(float(part[:, 2].mean()), 2),
                "together_shift": round(float(np.median(part[:, 3])), 3),
            }
    return out


def generated_personas(service, per_genre: int, rng: np.random.Generator) -> dict:
    """Genre -> `per_genre` personas (5 films each, from the genre's 30 most liked films)."""
    data = service.data
    liked = data.ratings[data.ratings["rating"] >= 3.0].groupby("movieId").size()
    out = {}
    for genre in sorted({g for gs in data.movies["genres"] for g in gs}):
        films = [m for m in data.movies.index if genre in data.movies.at[m, "genres"] and liked.get(m, 0) >= 20]
        films = sorted(films, key=lambda m: (-liked[m], m))[:30]
        if len(films) >= 15:
            for k in range(per_genre):
                out[f"{genre} {k + 1}"] = ((genre,), tuple(int(m) for m in rng.choice(films, 5, replace=False)))
    return out


def personas(service, chosen: dict) -> dict:
    """Persona -> the genre's films in the top 10 after each of its ratings."""
    out = {}
    for name, (genres, films) in chosen.items():
        user = service.create_user()
        counts = []
        for movie in films:
            service.rate(user, movie, service.data.scale.high)
            service.update_model()
            service.model.catch_up()
            counts.append(round(TOP * share([r.movie for r in service.recommend(user, k=TOP)], genres)))
        out[name] = counts
    return out


def main() -> int:
    cli = harness.parser(__doc__.splitlines()[0])
    cli.add_argument("--users", type=int, default=150, help="users given one new rating each (default 150)")
    cli.add_argument("--generated", type=int, default=3, help="generated personas per genre (default 3)")
    args = cli.parse_args()
    folder = harness.dataset_folder(args)
    harness.set_threads(args)
    before = harness.machine()

    from tui_recommender.app.service import RecommenderService
    from tui_recommender.config.settings import Settings

    result = {"machine": before}
    with tempfile.TemporaryDirectory() as tmp:
        service = RecommenderService.open(Settings.resolve(data=folder, state_dir=Path(tmp)))
        try:
            result["issue_cases"] = issue_cases(service)
            result["one_new_rating"] = many_users(service, args.users, np.random.default_rng(0))
            result["personas_genre_in_top10_after_each_rating"] = personas(service, PERSONAS)
            generated = personas(service, generated_personas(service, args.generated, np.random.default_rng(1)))
            result["generated_personas"] = {
                "personas": len(generated),
                "falling": sorted(name for name, c in generated.items() if c != sorted(c)),
                "mean_after_first": round(float(np.mean([c[0] for c in generated.values()])), 2),
                "mean_after_fifth": round(float(np.mean([c[-1] for c in generated.values()])), 2),
                "counts": generated,
            }
            result["model"] = str(service.model_source)
        finally:
            service.close()
    result["load_average_1m_after"] = harness.machine()["load_average_1m"]
    lines = [
        f"ml-latest-small, {result['model']}; load {before['load_average_1m']} -> {result['load_average_1m_after']}"
    ]
    lines += [
        f"{name}: {c['left_top10']} of the top 10 left; mean score change {c['mean_score_change']}"
        for name, c in result["issue_cases"].items()
    ]
    rows = [
        [bucket, b["users"], b["kept_of_10_served"], b["kept_of_10_after_catch_up"], b["together_shift"]]
        for bucket, b in result["one_new_rating"].items()
    ]
    lines.append(
        harness.table(
            rows, ["ratings", "users", "top-10 kept (served)", "(after catch-up)", "|mean|/std of untouched change"]
        )
    )
    rows = [
        [name, " ".join(str(c) for c in counts)]
        for name, counts in result["personas_genre_in_top10_after_each_rating"].items()
    ]
    lines.append(harness.table(rows, ["persona", f"genre's films in the top {TOP} after ratings 1..5"]))
    gen = result["generated_personas"]
    lines.append(
        f"generated personas: {len(gen['falling'])} of {gen['personas']} see their genre's count fall at some rating;"
        f" mean count after the first rating {gen['mean_after_first']}, after the fifth {gen['mean_after_fifth']}"
    )
    harness.emit(args, "\n".join(lines), result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
