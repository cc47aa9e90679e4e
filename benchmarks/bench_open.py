"""Opening a dataset at full size (issue 17): synthetic datasets shaped like ml-1m, ml-10m
and ml-32m are written to a folder (a temporary one, or `--dir` to keep and reuse them;
never the project), then each is measured in fresh child processes (imports included): the
first open (its cache removed: parse, then the cache is written), a later open (from the
cache), the checkpoint's load (and a read of every row) and save, `tui-recommender recommend
--user 1`, the app itself (`bench_startup.run_app`: first screen, then user 1's
recommendations after the ID is typed at once), and the ratings scenario (`ratings_scenario`:
the service opened, a list, three ratings learnt, the whole catch-up and the save, as the app
runs them; its peak RSS is the app's after ratings). Each child's wall time and peak RSS (its
VmHWM) are reported, with the load average before and after each shape, and for the later
open, `recommend` and the app their CPU seconds: on a shared machine the wall time stretches
with the load, the CPU seconds much less (they near a quiet machine's wall time).

The checkpoint is written once per shape from an untrained model: random embeddings of the
shipped recipe's width for every user and movie, with the dataset's fingerprint. For I/O
and serving latency the weights' values do not matter (the ranking is meaningless; the
sizes, and so the load and ranking time, are the real ones). Nothing here trains a model.

    .venv/bin/python benchmarks/bench_open.py [--shape ml-1m --shape ml-10m] [--dir DIR] [--no-recommend] [--no-app]
        [--no-ratings] [--no-parse] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_startup, run as a script or imported
GENRES = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
    "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
CHUNK_ROWS = 2_000_000


@dataclass(frozen=True)
class Shape:
    """A release's size and layout: `dat` for ml-1m/ml-10m's `::` files, else ml-latest CSVs."""

    name: str
    users: int
    movies: int
    ratings: int
    dat: bool
    whole_stars: bool


SHAPES = {
    shape.name: shape
    for shape in (
        Shape("ml-1m", 6_040, 3_706, 1_000_209, dat=True, whole_stars=True),
        Shape("ml-10m", 69_878, 10_677, 10_000_054, dat=True, whole_stars=False),
        Shape("ml-32m", 200_948, 87_585, 32_000_204, dat=False, whole_stars=False),
    )
}


def _distinct(keys: np.ndarray) -> np.ndarray:
    """`keys` sorted without repeats (a sort: numpy's hash-based `unique` is slower here)."""
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))]


def _pairs(shape: Shape, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`shape.ratings` distinct (user, movie) index pairs sorted by user then movie: every
    user rates at least 20 movies (as GroupLens's users do), activity and popularity skewed."""
    extra = rng.lognormal(0.0, 1.2, shape.users)
    counts = 20 + np.floor(extra / extra.sum() * (shape.ratings - 20 * shape.users)).astype(np.int64)
    counts[: shape.ratings - counts.sum()] += 1
    popularity = 1.0 / (np.arange(shape.movies) + 10.0) ** 0.9
    popularity /= popularity.sum()
    users = np.repeat(np.arange(shape.users, dtype=np.int64), counts)
    keys = _distinct(users * shape.movies + rng.choice(shape.movies, size=shape.ratings, p=popularity))
    while len(keys) < shape.ratings:  # repeats dropped above: top up with more draws
        missing = shape.ratings - len(keys)
        more = rng.integers(shape.users, size=2 * missing) * shape.movies + rng.integers(shape.movies, size=2 * missing)
        keys = _distinct(np.concatenate([keys, more]))
    keys = np.sort(rng.choice(keys, size=shape.ratings, replace=False)) if len(keys) > shape.ratings else keys
    return keys // shape.movies, keys % shape.movies


def _digits(values: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """ASCII digits of `values` (>= 0) right-aligned in `width` columns, and which are shown
    (no leading zeros; a zero shows one digit)."""
    values = values.astype(np.uint32)  # every value here is below 2**32; faster than int64
    powers = (10 ** np.arange(width - 1, -1, -1)).astype(np.uint32)
    digits = (values[:, None] // powers) % 10
    shown = (values[:, None] >= powers) | (powers == 1)
    return (digits + ord("0")).astype(np.uint8), shown


def _write_lines(out, fields: list[tuple[np.ndarray, np.ndarray]], sep: bytes) -> None:
    """Write rows of `fields` (each ASCII bytes with a shown-mask), `sep` between, "\n" after."""
    n = len(fields[0][0])
    parts, masks = [], []
    for k, (chars, shown) in enumerate(fields):
        parts.append(chars)
        masks.append(shown)
        tail = sep if k < len(fields) - 1 else b"\n"
        parts.append(np.tile(np.frombuffer(tail, dtype=np.uint8), (n, 1)))
        masks.append(np.ones((n, len(tail)), dtype=bool))
    out.write(np.hstack(parts)[np.hstack(masks)].tobytes())


def write_dataset(shape: Shape, folder: Path, seed: int = 0) -> Path:
    """Write a dataset of `shape` into `folder` (its layout's files) as fast as numpy can."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    movie_ids = np.sort(rng.choice(np.arange(1, shape.movies * 3), size=shape.movies, replace=False))
    users, movies = _pairs(shape, rng)
    # In half stars: 1-5 stars, or 0.5-5 in half steps.
    half_stars = (
        rng.integers(1, 6, size=shape.ratings) * 2 if shape.whole_stars else rng.integers(1, 11, size=shape.ratings)
    )
    stamps = rng.integers(789_652_009, 1_697_000_000, size=shape.ratings)
    sep = b"::" if shape.dat else b","
    ratings_file = folder / ("ratings.dat" if shape.dat else "ratings.csv")
    with ratings_file.open("wb") as out:
        if not shape.dat:
            out.write(b"userId,movieId,rating,timestamp\n")
        for start in range(0, shape.ratings, CHUNK_ROWS):
            rows = slice(start, start + CHUNK_ROWS)
            stars = half_stars[rows]
            if shape.whole_stars:
                rating = _digits(stars // 2, 1)
            else:
                text = np.stack([stars // 2 + ord("0"), np.full(len(stars), ord(".")), (stars % 2) * 5 + ord("0")], 1)
                rating = (text.astype(np.uint8), np.ones(text.shape, dtype=bool))
            fields = [
                _digits(users[rows] + 1, 6),
                _digits(movie_ids[movies[rows]], 6),
                rating,
                _digits(stamps[rows], 10),
            ]
            _write_lines(out, fields, sep)
    lines = [] if shape.dat else ["movieId,title,genres"]
    for k, movie in enumerate(movie_ids.tolist()):
        genres = "|".join(sorted({GENRES[k % len(GENRES)], GENRES[(k * 7) % len(GENRES)]}))
        title = f"Movie {movie}{' é' if k == 0 else ''} ({1920 + k % 100})"
        lines.append(f"{movie}::{title}::{genres}" if shape.dat else f'{movie},"{title}",{genres}')
    encoding = "latin-1" if shape.whole_stars else "utf-8"  # ml-1m's movies.dat is Latin-1
    (folder / ("movies.dat" if shape.dat else "movies.csv")).write_bytes(("\n".join(lines) + "\n").encode(encoding))
    if shape.whole_stars:
        (folder / "users.dat").write_text("".join(f"{u}::F::25::1::55455\n" for u in range(1, shape.users + 1)))
    return folder


def write_checkpoint(folder: Path, out: Path) -> None:
    """A checkpoint of the shipped recipe's width for every user and movie of `folder`,
    with random embeddings and the dataset's fingerprint (see the module docstring)."""
    from tui_recommender.data.cache import open_dataset
    from tui_recommender.engine.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
    from tui_recommender.engine.graph import sorted_distinct

    data = open_dataset(folder)
    recipe = load_checkpoint(REPO_ROOT / "weights" / "ml-latest-small.npz").config
    users = sorted_distinct(data.ratings["userId"].to_numpy())
    items = data.movies.index.to_numpy()
    rng = np.random.default_rng(1)
    ego = rng.standard_normal((len(users) + len(items), recipe.dim), dtype=np.float32) * 0.1
    save_checkpoint(Checkpoint(ego, ego.copy(), users, items, recipe, data.name, data.fingerprint), out)


# The child's own peak RSS is VmHWM of /proc/self/status, written last on stderr: the rusage
# of a child also counts the parent's memory at the fork (Linux keeps it across exec).
PEAK_LINE = "import atexit, sys; atexit.register(lambda: print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0], file=sys.stderr)); "
OPEN_SNIPPET = PEAK_LINE + (
    "import time, json; t = time.perf_counter(); "
    "from tui_recommender.data.cache import open_dataset; "
    "d = open_dataset(sys.argv[1]); "
    "print(json.dumps({'seconds': time.perf_counter() - t, 'ratings': len(d.ratings)}))"
)
LAST_CPU = [0.0]  # CPU seconds (user + system) of the last `_timed_child`
CLI_SNIPPET = PEAK_LINE + "from tui_recommender.cli.main import main; sys.exit(main(sys.argv[1:]))"


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed_child(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run `argv` (a Python child started with `PEAK_LINE`): (wall seconds, its peak RSS in
    MB, stdout); a failing child ends the benchmark with its last error line. Its CPU
    seconds go to `LAST_CPU`."""
    start, cpu = time.perf_counter(), _cpu_of_children()
    result = subprocess.run(argv, capture_output=True, env=env, text=True, check=False)
    seconds = time.perf_counter() - start
    LAST_CPU[0] = _cpu_of_children() - cpu
    if result.returncode != 0:
        raise SystemExit(f"bench_open: {' '.join(argv[3:8])} failed: {result.stderr.strip().splitlines()[-2:]}")
    return seconds, int(result.stderr.strip().splitlines()[-1]) / 1024, result.stdout


CHECKPOINT_SNIPPET = (
    "import json, os, sys, time; from pathlib import Path; "
    "from tui_recommender.engine.checkpoint import load_checkpoint, save_checkpoint; "
    "t = time.perf_counter(); c = load_checkpoint(Path(sys.argv[1])); loaded = time.perf_counter() - t; "
    "c.final.sum(); c.ego.sum(); touched = time.perf_counter() - t; "
    "t = time.perf_counter(); save_checkpoint(c, Path(sys.argv[2])); saved = time.perf_counter() - t; "
    "os.unlink(sys.argv[2]); "
    "print(json.dumps({'load_s': loaded, 'load_and_read_s': touched, 'save_s': saved, "
    "'mb': Path(sys.argv[1]).stat().st_size / 1e6, 'torch': 'torch' in sys.modules}))"
)


RATED = (4.0, 5.0, 4.0)  # the scenario's three ratings (whole stars, as every layout takes): each a positive


def _memory_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    status = Path("/proc/self/status").read_text()
    return tuple(int(status.split(field)[1].split()[0]) / 1024 for field in ("VmRSS:", "VmHWM:"))


def ratings_scenario(folder: str, checkpoint: str, state: str) -> None:
    """What the app does with a user's ratings, in this (child) process: open the service,
    user 1's list, three ratings of movies they have not rated, each learnt (`update_model`)
    and the list shown again, then the catch-up of everything (what the app's background
    thread runs) and the save (as on exit). Prints one JSON object: seconds and RSS after
    each step (the peak, VmHWM, comes last on stderr from `PEAK_LINE`)."""
    from tui_recommender.app.service import RecommenderService
    from tui_recommender.config.settings import Settings

    figures: dict[str, float] = {}

    def step(name: str, started: float) -> None:
        figures[f"{name}_s"] = round(time.perf_counter() - started, 2)
        figures[f"{name}_rss_mb"], figures[f"{name}_peak_rss_mb"] = (round(mb) for mb in _memory_mb())

    started = time.perf_counter()
    settings = Settings.resolve(data=folder, state_dir=state, checkpoint=checkpoint)
    service = RecommenderService.open(settings)
    service.model.close()  # no timer: the catch-up below is the one the app's thread would run
    step("open", started)
    started = time.perf_counter()
    listed = [r.movie.movie_id for r in service.recommend(1, k=20)]
    step("list", started)
    started = time.perf_counter()
    for movie, stars in zip(listed, RATED):
        service.rate(1, movie, stars)
        service.update_model()
        service.recommend(1, k=20)
    step("rate_3", started)
    started = time.perf_counter()
    service.model.catch_up()
    step("catch_up", started)
    started = time.perf_counter()
    service.save()
    step("save", started)
    service.close()
    figures["imported_torch"] = "torch" in sys.modules
    print(json.dumps(figures))


RATINGS_SNIPPET = PEAK_LINE + (
    "sys.path.insert(0, sys.argv[1]); import bench_open; bench_open.ratings_scenario(*sys.argv[2:])"
)


def measure(
    shape: Shape, workdir: Path, recommend: bool = True, app: bool = True, ratings: bool = True, parse: bool = True
) -> dict:
    """Every figure of one shape; its dataset and checkpoint in `workdir` are reused if there
    (and its cache too, without `parse`: no first open is measured then)."""
    env = {**os.environ, "TUI_RECOMMENDER_STATE_DIR": str(workdir / "state"), "OMP_NUM_THREADS": "2"}
    folder = workdir / shape.name
    written = None
    if not (folder / ("ratings.dat" if shape.dat else "ratings.csv")).is_file():
        start = time.perf_counter()
        write_dataset(shape, folder)
        written = round(time.perf_counter() - start, 1)
    size_mb = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
    python = [sys.executable, "-c", OPEN_SNIPPET, str(folder)]
    result = {"shape": shape.name, "ratings": shape.ratings, "files_mb": round(size_mb), "write_s": written}
    result["load_1min_before"] = os.getloadavg()[0]
    if parse:
        shutil.rmtree(workdir / f".{shape.name}.cache", ignore_errors=True)  # the first open parses
        first_wall, first_rss, first_out = _timed_child(python, env)
        result.update(
            first_open_s=round(json.loads(first_out)["seconds"], 2),
            first_open_wall_s=round(first_wall, 2),
            first_open_peak_rss_mb=round(first_rss),
        )
    later_wall, later_rss, later_out = _timed_child(python, env)
    result["later_open_cpu_s"] = round(LAST_CPU[0], 2)
    result.update(
        later_open_s=round(json.loads(later_out)["seconds"], 2),
        later_open_wall_s=round(later_wall, 2),
        later_open_peak_rss_mb=round(later_rss),
    )
    if recommend or app or ratings:
        checkpoint = workdir / f"{shape.name}.npz"
        if not checkpoint.is_file():
            write_checkpoint(folder, checkpoint)
        io = [sys.executable, "-c", PEAK_LINE + CHECKPOINT_SNIPPET, str(checkpoint), str(workdir / "copy.npz")]
        _, io_rss, io_out = _timed_child(io, env)
        result["checkpoint_io_peak_rss_mb"] = round(io_rss)
        io_figures = json.loads(io_out)
        result.update(
            checkpoint_mb=round(io_figures["mb"]),
            checkpoint_load_s=round(io_figures["load_s"], 2),
            checkpoint_load_and_read_s=round(io_figures["load_and_read_s"], 2),
            checkpoint_save_s=round(io_figures["save_s"], 2),
            checkpoint_io_imported_torch=io_figures["torch"],
        )
    if recommend:
        cli = [sys.executable, "-c", CLI_SNIPPET, "--data", str(folder), "--checkpoint", str(checkpoint)]
        cli += ["recommend", "--user", "1", "--json"]
        recommend_wall, recommend_rss, _ = _timed_child(cli, env)
        result.update(
            recommend_cli_wall_s=round(recommend_wall, 2),
            recommend_cli_cpu_s=round(LAST_CPU[0], 2),
            recommend_cli_peak_rss_mb=round(recommend_rss),
        )
    if app:
        from bench_startup import run_app

        figures = run_app(folder, "1", checkpoint)
        result.update(
            app_first_screen_s=round(figures["first_screen_s"], 2),
            app_recommendations_after_id_s=round(figures["first_recommendations_s"], 2),
            app_cpu_until_recommendations_s=round(figures["cpu_until_recommendations_s"], 2),
            app_peak_rss_mb=round(figures["peak_rss_mb"]),
        )
    if ratings:
        state = workdir / "ratings-state"
        shutil.rmtree(state, ignore_errors=True)
        child = [sys.executable, "-c", RATINGS_SNIPPET, str(Path(__file__).resolve().parent), str(folder)]
        wall, peak, out = _timed_child([*child, str(checkpoint), str(state)], env)
        shutil.rmtree(state, ignore_errors=True)  # the saved checkpoint: hundreds of MB
        result["ratings_scenario"] = {**json.loads(out), "wall_s": round(wall, 2), "peak_rss_mb": round(peak)}
    result["load_1min_after"] = os.getloadavg()[0]
    return result


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_argument("--shape", action="append", choices=sorted(SHAPES), help="default: ml-1m and ml-10m")
    cli.add_argument(
        "--dir",
        metavar="DIR",
        help="keep the datasets and checkpoints here and reuse them (default: a temporary folder)",
    )
    cli.add_argument("--no-recommend", action="store_true", help="no `recommend` CLI run")
    cli.add_argument("--no-app", action="store_true", help="no run of the app (first screen, recommendations)")
    cli.add_argument(
        "--no-ratings", action="store_true", help="no ratings scenario (open, list, 3 ratings, catch-up, save)"
    )
    cli.add_argument("--no-parse", action="store_true", help="keep a dataset's cache: no first open (parse) measured")
    cli.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = cli.parse_args()
    shapes = [SHAPES[name] for name in args.shape or ("ml-1m", "ml-10m")]
    with contextlib.ExitStack() as stack:
        workdir = (
            Path(args.dir) if args.dir else Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-open-")))
        )
        workdir.mkdir(parents=True, exist_ok=True)
        results = []
        for shape in shapes:
            results.append(
                measure(shape, workdir, not args.no_recommend, not args.no_app, not args.no_ratings, not args.no_parse)
            )
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
