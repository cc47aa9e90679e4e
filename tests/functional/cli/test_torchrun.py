"""`train` under torchrun (gloo, 2 ranks on this machine): the weights equal one process's
with the same steps and seed; a rank killed mid-run stops every rank with one line and no
checkpoint, and `--resume` goes on from the last epoch to the same weights; a world size
the steps cannot be shared by is one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.synthetic import write_movielens

# Long enough that a rank can be killed mid-run, short enough to stay a few seconds
RECIPE = ["--dim", "16", "--user-batch", "64", "--epochs", "40", "--patience", "100", "--seed", "3", "--device", "cpu"]
LAUNCHER_VARIABLES = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_movielens(tmp_path_factory.mktemp("data") / "ml-latest-small", n_users=300, n_movies=200, per_user=30)


def command(data: Path, out: Path, ranks: int, *extra: str) -> list[str]:
    train = ["-m", "tui_recommender", "train", "--data", str(data), "--state-dir", str(out.parent / "state")]
    launch = [
        sys.executable,
        *(["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={ranks}"] if ranks else []),
    ]
    return [*launch, *train, "--out", str(out), "--json", *RECIPE, *extra]


def environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in LAUNCHER_VARIABLES}
    return {**env, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, env=environment(), timeout=300)


def weights(path: Path) -> np.ndarray:
    return np.load(path)["ego"]


def our_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("tui-recommender:")]


def rank_pid(launcher: int, rank: int) -> int | None:
    """The pid of `rank` among the launcher's child processes, if it has started."""
    children = Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split()
    for pid in children:
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"RANK={rank}".encode() in env:
            return int(pid)
    return None


def test_two_ranks_train_like_one_and_resume_after_a_rank_dies(data, tmp_path):
    alone, shared = tmp_path / "alone.npz", tmp_path / "shared.npz"
    done = run(command(data, alone, 0))
    assert done.returncode == 0, done.stderr
    done = run(command(data, shared, 2))
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == 1  # rank 0 alone prints the result
    np.testing.assert_allclose(weights(shared), weights(alone), atol=1e-5)
    assert not (tmp_path / "shared.npz.resume").exists()  # the epoch state goes once the model is saved

    killed = tmp_path / "killed.npz"
    state = tmp_path / "killed.npz.resume"
    launcher = subprocess.Popen(
        command(data, killed, 2), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment()
    )
    deadline = time.monotonic() + 120
    while not state.exists() and launcher.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    victim = rank_pid(launcher.pid, 1)
    assert victim is not None and launcher.poll() is None, "the training ended before a rank could be killed"
    os.kill(victim, signal.SIGKILL)
    _, stderr = launcher.communicate(timeout=120)
    assert launcher.returncode != 0
    lines = our_lines(stderr)
    assert len(lines) == 1 and "rank 0" in lines[0] and "nothing written" in lines[0], stderr
    assert "pair.cc" not in lines[0]  # gloo's source location is left out of the reason
    assert not killed.exists() and state.exists()

    resumed = run(command(data, killed, 2, "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    np.testing.assert_allclose(weights(killed), weights(shared), atol=1e-5)
    assert not state.exists()


def test_two_ranks_train_like_one_with_the_plan_of_large_data(data, tmp_path):
    # 2 steps of ~150 users per epoch, each scoring 34 movies drawn by popularity
    large = ["--epochs", "4", "--epoch-steps", "2", "--epoch-scores", "10000"]
    alone, shared = tmp_path / "alone.npz", tmp_path / "shared.npz"
    for out, ranks in ((alone, 0), (shared, 2)):
        done = run(command(data, out, ranks, *large))
        assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(weights(shared), weights(alone), atol=1e-5)


def test_more_ranks_than_users_in_a_step_is_one_line(data, tmp_path):
    out = tmp_path / "model.npz"
    done = run(command(data, out, 2, "--user-batch", "1", "--epoch-steps", str(2**24)))
    assert done.returncode != 0
    lines = our_lines(done.stderr)
    assert len(lines) == 1 and "2 processes cannot share a training step of 1 users" in lines[0], done.stderr
    assert "exitcode  : 2" in done.stderr  # the ranks' own exit code, as torchrun reports it
    assert not out.exists() and not (tmp_path / "model.npz.resume").exists()
