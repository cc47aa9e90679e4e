"""Peak resident memory of `tui-recommender train --data <ml-latest-small> --epochs 20
--json` run as a child process, against a child that only does `import torch,
torch_geometric`. Target: train peak < 1 GB.

Each child's peak comes from its own `wait4` rusage (`ru_maxrss`, KiB on Linux), so the
figures do not mix. The children use torch's default thread count, as a user's run would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness

TARGET_MB = 1024.0
EPOCHS = 20


def peak_rss(command: list[str], workdir: Path) -> dict:
    """Run `command`; its peak RSS (MiB), wall seconds, exit code and stdout."""
    out_path, err_path = workdir / "stdout", workdir / "stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, cwd=harness.REPO_ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"benchmark: {' '.join(command)} exited with {child.returncode}:\n{err_path.read_text()[-2000:]}")
    return {
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "seconds": round(seconds, 2),
        "stdout": out_path.read_text(),
    }


def main() -> None:
    cli = harness.parser(__doc__.split("\n\n")[0], threads=False)
    args = cli.parse_args()
    folder = harness.dataset_folder(args)
    before = harness.machine()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        tmp_path = Path(tmp)
        baseline = peak_rss([sys.executable, "-c", "import torch, torch_geometric"], tmp_path)
        train = peak_rss(
            [
                sys.executable,
                "-m",
                "tui_recommender",
                "train",
                "--data",
                str(folder),
                "--epochs",
                str(EPOCHS),
                "--state-dir",
                str(tmp_path / "state"),
                "--out",
                str(tmp_path / "m.npz"),
                "--json",
            ],
            tmp_path,
        )
    summary = json.loads(train.pop("stdout").strip().splitlines()[-1])
    baseline.pop("stdout")
    result = {
        "benchmark": "memory",
        "machine": before,
        "load_average_1m_after": harness.machine()["load_average_1m"],
        "import_torch_pyg": baseline,
        "train": {
            **train,
            "summary": {
                key: summary.get(key) for key in ("validation_epochs", "epochs", "best_epoch", "seconds_per_epoch")
            },
        },
        "train_over_import": harness.ratio(train["peak_rss_mb"], baseline["peak_rss_mb"]),
        "target_mb": TARGET_MB,
        "met": train["peak_rss_mb"] < TARGET_MB,
    }
    rows = [
        ["python -c 'import torch, torch_geometric'", f"{baseline['peak_rss_mb']:.0f}", f"{baseline['seconds']:.1f}"],
        [f"tui-recommender train --epochs {EPOCHS}", f"{train['peak_rss_mb']:.0f}", f"{train['seconds']:.1f}"],
    ]
    text = [
        f"Peak RSS of child processes, ml-latest-small, load {before['load_average_1m']} -> {result['load_average_1m_after']}",
        harness.table(rows, ["process", "peak RSS MiB", "wall s"]),
        "train's own summary: " + ", ".join(f"{key} {value}" for key, value in result["train"]["summary"].items()),
        f"train peak {train['peak_rss_mb']:.0f} MiB = {result['train_over_import']}x the import-only baseline "
        f"(target < {TARGET_MB:g} MiB): {'met' if result['met'] else 'MISSED'}",
    ]
    harness.emit(args, "\n".join(text), result)


if __name__ == "__main__":
    main()
