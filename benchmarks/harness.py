"""What every benchmark shares: the command line (`--data`, `--json`, `--threads`), the
dataset check, a model checkpoint to open the service from, timing statistics, the
machine description and the output (a short table, or one JSON object with `--json`).

The scripts run as `python benchmarks/NAME.py`, so this module is imported as `harness`.
The OpenMP setting (`OMP_WAIT_POLICY`) in force is recorded with every result: the app
sets PASSIVE when it opens the service before torch loads; batch training keeps the default.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import tui_recommender  # noqa: F401  (before torch: see the module docstring)

if TYPE_CHECKING:
    from tui_recommender.config.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "datasets" / "ml-latest-small"
EXIT_NO_DATA = 2


def parser(description: str, threads: bool = True) -> argparse.ArgumentParser:
    """An argument parser with `--data`, `--json` and (for in-process benchmarks) `--threads`."""
    cli = argparse.ArgumentParser(description=description)
    cli.add_argument(
        "--data", metavar="DIR", default=str(DEFAULT_DATA), help=f"ml-latest-small folder (default: {DEFAULT_DATA})"
    )
    cli.add_argument("--json", action="store_true", help="print one JSON object on stdout (the table goes to stderr)")
    if threads:
        cli.add_argument(
            "--threads", type=int, default=2, help="torch intra-op threads (default 2, the machine's cores)"
        )
    return cli


def dataset_folder(args: argparse.Namespace) -> Path:
    """`--data` as a checked folder; exits with one line when it holds no dataset."""
    from tui_recommender.data.movielens import is_dataset

    folder = Path(args.data).expanduser().resolve()
    if not folder.is_dir() or not is_dataset(folder):
        print(
            f"benchmark: no MovieLens dataset at {folder} (expected ml-latest-small: ratings.csv, movies.csv); pass --data DIR",
            file=sys.stderr,
        )
        sys.exit(EXIT_NO_DATA)
    return folder


def set_threads(args: argparse.Namespace) -> float:
    """Import torch and set its thread count; returns the seconds the import took (the
    app pays them at its first model update, as torch is imported lazily)."""
    started = time.perf_counter()
    import torch

    seconds = time.perf_counter() - started
    torch.set_num_threads(args.threads)
    return seconds


def stats(seconds: Sequence[float]) -> dict[str, float]:
    """Median, p95, mean, min and max of timings, in milliseconds, plus the count."""
    ms = np.asarray(seconds, dtype=np.float64) * 1e3
    return {
        "n": len(ms),
        "median_ms": round(float(np.median(ms)), 3),
        "p95_ms": round(float(np.percentile(ms, 95)), 3),
        "mean_ms": round(float(ms.mean()), 3),
        "min_ms": round(float(ms.min()), 3),
        "max_ms": round(float(ms.max()), 3),
    }


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """(wall seconds, result) of one call."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def machine() -> dict:
    """Where and when the figures were taken; the load average shows how noisy it was."""
    import torch

    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "python": platform.python_version(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "commit": _commit(),
    }


def _commit() -> str | None:
    """The checked-out commit, with `-dirty` when the engine has uncommitted edits."""

    def git(*argv: str) -> str:
        return subprocess.run(["git", *argv], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()

    try:
        return git("rev-parse", "--short", "HEAD") + (
            "-dirty" if git("status", "--porcelain", "--", "tui_recommender") else ""
        )
    except (OSError, subprocess.CalledProcessError):
        return None


def checkpoint_settings(args: argparse.Namespace, folder: Path, state_dir: Path) -> tuple[Settings, str]:
    """Settings for `RecommenderService.open` in `state_dir`, and where its model comes
    from. `--checkpoint` or shipped weights are used as they are; otherwise
    `tui-recommender train --epochs <--train-epochs>` writes one into the state dir first
    (latency does not depend on how well the model ranks), or, with `--train-epochs 0`,
    `open` trains its default. Training runs in a child process, so this one has not
    loaded what training loads (the app's first update pays for that)."""
    from tui_recommender.config.settings import Settings
    from tui_recommender.data.movielens import load_dataset

    settings = Settings.resolve(data=folder, state_dir=state_dir, checkpoint=args.checkpoint)
    name = load_dataset(folder).name
    if args.checkpoint or (settings.weights_dir / f"{name}.npz").exists() or args.train_epochs == 0:
        return settings, "as RecommenderService.open finds it"
    command = [
        sys.executable,
        "-m",
        "tui_recommender",
        "train",
        "--data",
        str(folder),
        "--state-dir",
        str(state_dir),
        "--epochs",
        str(args.train_epochs),
        "--json",
    ]
    seconds, done = timed(lambda: subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT))
    if done.returncode != 0:
        sys.exit(f"benchmark: {' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return settings, f"`tui-recommender train --epochs {args.train_epochs}` in {seconds:.1f} s"


def add_checkpoint_options(cli: argparse.ArgumentParser) -> None:
    cli.add_argument("--checkpoint", metavar="PATH", help="model checkpoint to open the service with")
    cli.add_argument(
        "--train-epochs",
        type=int,
        default=3,
        metavar="N",
        help="without --checkpoint or shipped weights: train N epochs first (default 3); 0 lets the service train its default",
    )


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """Rows as left-aligned text columns under `header`."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def emit(args: argparse.Namespace, text: str, result: dict) -> None:
    """The table on stdout; with `--json`, the table on stderr and `result` on stdout."""
    if args.json:
        print(text, file=sys.stderr)
        print(json.dumps(result))
    else:
        print(text)


def ratio(slow: float, fast: float) -> float:
    return round(slow / fast, 2) if fast > 0 else float("inf")
