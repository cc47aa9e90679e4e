"""Importing a 2,000-row IMDb ratings export into a new profile on ml-latest-small, and the
one model update that learns it: `read_import` (header, parse, match by IMDb id through
links.csv), `apply_import` (one SQLite transaction), `update_model`. Target: the three
together < 5 s. Baseline in the same run: the same ratings applied the way a rating typed
in the app is, `rate()` then `update_model()` per row, timed on the first `--per-row`
rows and scaled to the file. Also timed: matching the same file by title and year only
(no links.csv, as on ml-100k).

The export is generated here (never a real person's): 90% film rows of random dataset
movies with their real IMDb ids and titles as IMDb writes them, 5% series and episodes,
5% films the dataset does not have; IMDb stars 1-10, dates in 2020-2024.
"""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path

import harness
import numpy as np

TARGET_S = 5.0
HEADER = [
    "Const",
    "Your Rating",
    "Date Rated",
    "Title",
    "Original Title",
    "URL",
    "Title Type",
    "IMDb Rating",
    "Runtime (mins)",
    "Year",
    "Genres",
    "Num Votes",
    "Release Date",
    "Directors",
]


def write_export(path: Path, data, links, rows: int, seed: int) -> int:
    """Write the generated export; returns how many film rows are dataset movies."""
    from tui_recommender.core.titles import display_title

    rng = np.random.default_rng(seed)
    linked = links[links["imdbId"] != ""]
    n_known = int(rows * 0.9)
    picked = rng.choice(len(linked), size=n_known, replace=False)
    lines = []
    for movie_id, imdb in zip(linked.index[picked].tolist(), linked["imdbId"].iloc[picked].tolist()):
        movie = data.movies.loc[movie_id]
        year = "" if movie["year"] is None or str(movie["year"]) == "<NA>" else str(movie["year"])
        lines.append((f"tt{imdb}", display_title(movie["title"]), "Movie", year))
    for k in range(rows - n_known):
        kind = ("TV Series", "TV Episode", "Movie", "Movie")[k % 4]
        lines.append((f"tt9{k:07d}", f"Generated title {k}", kind, str(2000 + k % 24)))  # tt9...: no MovieLens movie
    order = rng.permutation(len(lines))
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in order:
            const, title, kind, year = lines[i]
            day = f"{2020 + int(rng.integers(5))}-{1 + int(rng.integers(12)):02d}-{1 + int(rng.integers(28)):02d}"
            writer.writerow(
                [
                    const,
                    int(rng.integers(1, 11)),
                    day,
                    title,
                    title,
                    f"https://www.imdb.com/title/{const}/",
                    kind,
                    "7.0",
                    "100",
                    year,
                    "Drama",
                    "1000",
                    f"{year}-01-01" if year else "",
                    "Someone",
                ]
            )
    return n_known


def main() -> None:
    cli = harness.parser(__doc__.split("\n\n")[0])
    harness.add_checkpoint_options(cli)
    cli.add_argument("--rows", type=int, default=2000, help="rows of the generated export (default 2000)")
    cli.add_argument("--rounds", type=int, default=3, help="imports, each into a new profile (default 3)")
    cli.add_argument("--per-row", type=int, default=30, help="rows of the per-row baseline (default 30)")
    args = cli.parse_args()
    folder = harness.dataset_folder(args)
    harness.set_threads(args)
    before = harness.machine()

    from tui_recommender.app.service import RecommenderService
    from tui_recommender.data.movielens import load_links
    from tui_recommender.storage.importers import MovieMatcher, read_import

    parts: dict[str, list[float]] = {"read_import": [], "apply_import": [], "update_model": [], "total": []}
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        settings, model_from = harness.checkpoint_settings(args, folder, Path(tmp))
        service = RecommenderService.open(settings)
        try:
            service.prepare_updates()  # the app does this while the user types their ID
            links = load_links(folder)
            first_user = service.next_user_id()
            files = []
            for round_ in range(args.rounds):
                path = Path(tmp) / f"imdb-{round_}.csv"
                known = write_export(path, service.data, links, args.rows, seed=round_)
                files.append(path)
                user = first_user + round_
                t0 = time.perf_counter()
                plan = service.read_import(path, user)
                t1 = time.perf_counter()
                stored = service.apply_import(plan)
                t2 = time.perf_counter()
                report = service.update_model()
                t3 = time.perf_counter()
                if stored != known or report.n_ratings != known or report.cancelled:
                    raise SystemExit(
                        f"benchmark: stored {stored}, learnt {report.n_ratings} of {known} known rows (cancelled: {report.cancelled})"
                    )
                for name, seconds in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t3 - t0)):
                    parts[name].append(seconds)
            skipped, unmatched = len(plan.skipped), len(plan.unmatched)

            by_title = MovieMatcher(service.data.movies, None)
            scale, movie_ids = service.scale, set(service.data.movies.index.tolist())
            title_seconds, title_plan = harness.timed(
                lambda: read_import(files[0], by_title, scale, movie_ids, first_user)
            )
            title_matched = len(title_plan.ratings)

            per_row_user = first_user + args.rounds
            service.create_user(per_row_user)
            rows = plan.ratings.head(args.per_row)
            started = time.perf_counter()
            for movie, stars in zip(rows["movieId"].tolist(), rows["rating"].tolist()):
                service.rate(per_row_user, movie, stars)
                service.update_model()
            per_row_s = (time.perf_counter() - started) / len(rows)
            source = str(service.model_source)
        finally:
            service.close()

    totals = parts["total"]
    median_total = float(np.median(totals))
    per_row_file_s = per_row_s * known
    result = {
        "benchmark": "import",
        "machine": before,
        "load_average_1m_after": harness.machine()["load_average_1m"],
        "model": {"source": source, "prepared": model_from},
        "rows": args.rows,
        "imported": known,
        "skipped_not_films": skipped,
        "unmatched": unmatched,
        "steps": {name: harness.stats(seconds) for name, seconds in parts.items()},
        "first_total_s": round(totals[0], 3),
        "median_total_s": round(median_total, 3),
        "per_row_baseline": {
            "rows_timed": len(rows),
            "seconds_per_row": round(per_row_s, 4),
            "scaled_to_file_s": round(per_row_file_s, 1),
        },
        "speedup_vs_per_row": harness.ratio(per_row_file_s, median_total),
        "title_only_matching": {"seconds": round(title_seconds, 3), "matched": title_matched, "of": known},
        "target_s": TARGET_S,
        "met": max(totals) < TARGET_S,
    }
    table = [[name, f"{s['median_ms']:.0f}", f"{s['max_ms']:.0f}"] for name, s in result["steps"].items()]
    text = [
        f"IMDb export of {args.rows} rows -> new profile, ml-latest-small, {args.rounds} rounds, {args.threads} threads, "
        f"load {before['load_average_1m']} -> {result['load_average_1m_after']}",
        f"model: {source}; {model_from}",
        f"imported {known}, skipped {skipped} (not films), unmatched {unmatched}",
        harness.table(table, ["step", "median ms", "max ms"]),
        f"read + store + one update: first {totals[0]:.2f} s, median {median_total:.2f} s, max {max(totals):.2f} s "
        f"(target < {TARGET_S:g} s): {'met' if result['met'] else 'MISSED'}",
        f"per-row baseline (rate + update per row): {per_row_s * 1e3:.0f} ms/row, {per_row_file_s:.0f} s for the file: "
        f"{result['speedup_vs_per_row']}x slower than one update",
        f"matching by title and year only (no links.csv): {title_seconds:.2f} s, {title_matched} of {known} matched",
    ]
    harness.emit(args, "\n".join(text), result)


if __name__ == "__main__":
    main()
