"""Small MovieLens-shaped datasets generated for the tests (never the real data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

GENRES = ("Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi")
WORDS = ("Star", "Night", "Love", "Ghost", "River", "City", "Dream", "Storm", "Glass", "Moon")


def movie_title(movie_id: int) -> str:
    w = WORDS
    return f"{w[movie_id % len(w)]} {w[(movie_id // len(w)) % len(w)]} {movie_id}"


def write_movielens(
    folder: Path,
    n_users: int = 40,
    n_movies: int = 80,
    per_user: int = 15,
    seed: int = 0,
    half_stars: bool = True,
) -> Path:
    """Write `movies.csv` + `ratings.csv` in the ml-latest-small layout and return `folder`.

    Users like one or two genres: they rate movies of those genres high (>= 3.5) and a few
    others low, so a model has real structure to learn. Movie ids are sparse (10, 20, ...)
    and user ids start at 1, like the real data.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    movie_ids = np.arange(1, n_movies + 1) * 10
    movie_genres = []
    lines = ["movieId,title,genres"]
    for k, mid in enumerate(movie_ids):
        gs = sorted({GENRES[k % len(GENRES)], GENRES[rng.integers(len(GENRES))]})
        movie_genres.append(gs)
        year = 1950 + (k * 3) % 70
        title = f"{movie_title(int(mid))} ({year})"
        if k % 7 == 3:  # a quoted title with a comma, as in the real movies.csv
            title = f'"{movie_title(int(mid))}, The ({year})"'
        lines.append(f"{mid},{title},{'|'.join(gs)}")
    (folder / "movies.csv").write_text("\n".join(lines) + "\n")

    rows = ["userId,movieId,rating,timestamp"]
    step, low = (0.5, 0.5) if half_stars else (1.0, 1.0)
    for user in range(1, n_users + 1):
        liked = {GENRES[user % len(GENRES)], GENRES[(user * 5) % len(GENRES)]}
        fit = np.array([bool(liked & set(g)) for g in movie_genres])
        p = np.where(fit, 4.0, 1.0)
        chosen = rng.choice(n_movies, size=per_user, replace=False, p=p / p.sum())
        for k in chosen:
            base = 4.5 if fit[k] else 2.0
            value = float(np.clip(np.round((base + rng.normal(0, 0.5)) / step) * step, low, 5.0))
            rows.append(f"{user},{movie_ids[k]},{value:g},{1_000_000 + user * 1000 + int(k)}")
    (folder / "ratings.csv").write_text("\n".join(rows) + "\n")
    return folder


def write_clustered(folder: Path, seed: int = 0) -> Path:
    """A dataset with one clear niche taste inside a popular mainstream, in the
    ml-latest-small layout; returns `folder`.

    60 movies in three blocks of 20: "Drama" (mainstream: every user likes many of them, a
    few very popular), "Animation" (niche: liked by 12 of the 80 users only, who also like
    some Drama) and "Horror" (liked by 20 users, who also like some Drama). Users rate what
    they like 4-5 stars and a few other movies 1-2 stars. A new user who likes Animation
    films should be recommended the other Animation films first, though Drama films are
    far more popular.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    blocks = {"Drama": range(20), "Animation": range(20, 40), "Horror": range(40, 60)}
    lines = ["movieId,title,genres"]
    for genre, block in blocks.items():
        for k in block:
            lines.append(f"{k + 1},{movie_title(k + 1)} ({1970 + k}),{genre}")
    (folder / "movies.csv").write_text("\n".join(lines) + "\n")
    drama_weight = 1.0 / (1.0 + np.arange(20))  # a few Drama films are far more popular
    rows = ["userId,movieId,rating,timestamp"]
    for user in range(1, 81):
        liked = set(rng.choice(20, size=8, replace=False, p=drama_weight / drama_weight.sum()).tolist())
        if user <= 12:
            liked |= set((20 + rng.choice(20, size=10, replace=False)).tolist())
        elif user <= 32:
            liked |= set((40 + rng.choice(20, size=10, replace=False)).tolist())
        disliked = set(rng.choice(60, size=3, replace=False).tolist()) - liked
        for k in sorted(liked):
            rows.append(f"{user},{k + 1},{rng.choice([4.0, 4.5, 5.0])},{1_000_000 + user * 100 + k}")
        for k in sorted(disliked):
            rows.append(f"{user},{k + 1},{rng.choice([1.0, 1.5, 2.0])},{1_000_000 + user * 100 + k}")
    (folder / "ratings.csv").write_text("\n".join(rows) + "\n")
    return folder


def write_dat(folder: Path, release: str = "ml-1m", **shape: int) -> Path:
    """The dataset of `write_movielens(**shape)` in the `::`-separated layout of `release`
    ("ml-1m": whole stars, Latin-1 `movies.dat` with an accented first title, `users.dat`;
    "ml-10m": half stars, UTF-8, `tags.dat`); returns `folder`."""
    import csv
    import tempfile

    whole = release == "ml-1m"
    with tempfile.TemporaryDirectory() as tmp:
        source = write_movielens(Path(tmp), half_stars=not whole, **shape)
        with (source / "movies.csv").open(newline="", encoding="utf-8") as stream:
            movies = list(csv.reader(stream))[1:]
        ratings = (source / "ratings.csv").read_text().splitlines()[1:]
    folder.mkdir(parents=True, exist_ok=True)
    movies[0][1] = "Misérables, Les (1995)"
    encoding = "latin-1" if whole else "utf-8"
    (folder / "movies.dat").write_bytes("".join(f"{'::'.join(row)}\n" for row in movies).encode(encoding))
    lines = []
    for row in ratings:
        user, movie, stars, stamp = row.split(",")
        lines.append(f"{user}::{movie}::{int(float(stars)) if whole else stars}::{stamp}\n")
    (folder / "ratings.dat").write_text("".join(lines))
    if whole:
        users = sorted({row.split(",")[0] for row in ratings}, key=int)
        (folder / "users.dat").write_text("".join(f"{user}::F::25::1::55455\n" for user in users))
    else:
        (folder / "tags.dat").write_text(f"1::{movies[0][0]}::good: really::1000000\n2::{movies[1][0]}::  ::1000001\n")
    return folder


def write_zip(folder: Path, archive: Path, top: str | None = None) -> Path:
    """Pack the files of dataset `folder` into `archive` under one top folder (default: the
    folder's name), as GroupLens ships them; returns `archive`."""
    import zipfile

    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.mkdir(top or folder.name)
        for file in sorted(folder.iterdir()):
            zipped.write(file, f"{top or folder.name}/{file.name}")
    return archive


def tiny_graph(n_users: int = 24, n_items: int = 30, seed: int = 0):
    """An `InteractionGraph` of users in three taste groups of ten items each: six positives
    in their group, two anywhere (needs `n_items` >= 30)."""
    from tui_recommender.engine.graph import InteractionGraph

    rng = np.random.default_rng(seed)
    users, items = [], []
    for user in range(n_users):
        group = np.arange(10) + 10 * (user % 3)
        liked = np.union1d(rng.choice(group, size=6, replace=False), rng.choice(n_items, size=2, replace=False))
        users += [user] * len(liked)
        items += liked.tolist()
    return InteractionGraph.from_pairs(n_users, n_items, np.array(users), np.array(items))
