"""Title search as people type it: for the most rated movies of the dataset, queries written
the way people write them (the title as shown, without punctuation, without spaces, with one
typo, a numbered sequel as "name 2"), and where the wanted movie lands. The previous search
(every query word a substring of the folded title) runs beside `TitleSearch` on the same
queries, in the same run; latency of both, median and p95.

A query is written from the display title's first words (at most four, as people type),
so it is a real query for that movie, not the full title string."""

from __future__ import annotations

import re
import time

import harness
import numpy as np
import pandas as pd

TYPO_SEED = 0


def previous_search(folded: np.ndarray, query: str, popularity: np.ndarray, limit: int) -> list[int]:
    """The search before `TitleSearch`: every folded query word inside the folded title (as
    it cached them: display title and year)."""
    from tui_recommender.core.titles import fold

    words = fold(query).split()
    hit = np.ones(len(folded), dtype=bool)
    for word in words:
        hit &= np.char.find(folded, word) >= 0
    found = np.flatnonzero(hit)
    return found[np.lexsort((found, -popularity[found]))][:limit].tolist()


def typo(word: str, rng: np.random.Generator) -> str:
    """`word` with one edit a typist makes: two neighbours swapped, a letter dropped or doubled."""
    i = int(rng.integers(1, len(word) - 1))
    kind = rng.integers(3)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def queries(title: str, rng: np.random.Generator) -> dict[str, str | None]:
    """The ways of typing `title` this benchmark tries (None where one does not apply)."""
    head = " ".join(re.sub(r"\s*\(.*?\)", "", title).split()[:4])
    bare = re.sub(r"[^\w\s]", " ", head)
    longest = max(bare.split(), key=len)
    typed = bare.replace(longest, typo(longest, rng), 1) if len(longest) >= 6 else None
    roman = re.search(r"\b(?:Part )?(II|III|IV|V|VI)\b", title)
    numbers = {"II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6"}
    sequel = None
    if roman:
        name = re.split(r"[:\-]", title)[0].replace("The ", "").strip()
        sequel = f"{name} {numbers[roman.group(1)]}"
    return {
        "as shown": head,
        "no punctuation": bare if bare.split() != head.split() else None,
        "no spaces": "".join(bare.split()[:2]) if len(bare.split()) >= 2 else None,
        "one typo": typed,
        "sequel number": sequel,
    }


def main() -> None:
    cli = harness.parser(__doc__.split("\n\n")[0], threads=False)
    cli.add_argument("--movies", type=int, default=500, help="the most rated movies to query (default 500)")
    args = cli.parse_args()
    folder = harness.dataset_folder(args)
    before = harness.machine()

    from tui_recommender.app.title_search import TitleSearch
    from tui_recommender.core.titles import display_title, fold
    from tui_recommender.data.movielens import load_dataset

    data = load_dataset(folder)
    movies = data.movies
    titles = [display_title(str(t)) for t in movies["title"]]
    years = [None if pd.isna(y) else int(y) for y in movies["year"]]
    folded = np.array([fold(t) + ("" if y is None else f" ({y})") for t, y in zip(titles, years)], dtype=str)
    rows = {movie_id: row for row, movie_id in enumerate(movies.index)}
    popularity = np.bincount([rows[m] for m in data.ratings["movieId"]], minlength=len(movies)).astype(float)
    index = TitleSearch(titles, years)

    rng = np.random.default_rng(TYPO_SEED)
    ranks: dict[str, dict[str, list[int | None]]] = {}
    seconds: dict[str, list[float]] = {"previous": [], "TitleSearch": []}
    for row in np.argsort(-popularity, kind="stable")[: args.movies]:
        for kind, query in queries(titles[row], rng).items():
            if query is None:
                continue
            for name, search in (
                ("previous", lambda q: previous_search(folded, q, popularity, 50)),
                ("TitleSearch", lambda q: index.search(q, popularity, 50)),
            ):
                started = time.perf_counter()
                found = search(query)
                seconds[name].append(time.perf_counter() - started)
                rank = found.index(row) + 1 if row in found else None
                ranks.setdefault(kind, {}).setdefault(name, []).append(rank)

    result_rows, result = [], {"machine_before": before, "movies": args.movies, "kinds": {}}
    for kind, by_search in ranks.items():
        entry = {}
        for name, found in by_search.items():
            top1 = sum(r == 1 for r in found) / len(found)
            top5 = sum(r is not None and r <= 5 for r in found) / len(found)
            entry[name] = {"queries": len(found), "top1": round(top1, 3), "top5": round(top5, 3)}
            result_rows.append((kind, name, len(found), f"{top1:.3f}", f"{top5:.3f}"))
        result["kinds"][kind] = entry
    for name, values in seconds.items():
        result[f"{name}_latency"] = harness.stats(values)
    text = harness.table(result_rows, ("query", "search", "n", "top-1", "top-5"))
    text += "\n" + "\n".join(
        f"{name}: median {result[f'{name}_latency']['median_ms']:.1f} ms, "
        f"p95 {result[f'{name}_latency']['p95_ms']:.1f} ms"
        for name in seconds
    )
    result["machine_after"] = harness.machine()
    harness.emit(args, text, result)


if __name__ == "__main__":
    main()
