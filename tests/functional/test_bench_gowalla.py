"""benchmarks/bench_gowalla.py refuses a Gowalla folder it cannot use with one line and
exit 2, before any training (the split itself is never in the repository: tiny stand-ins)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from tests.paths import REPO_ROOT


def write_split(folder: Path, test: str = "0 0\n1 1\n") -> Path:
    """A 2-user, 2-item split: users 0 and 1, items at nodes 2 and 3, edges 0-3 and 1-2."""
    folder.mkdir()
    rows, cols = np.array([0, 3, 1, 2]), np.array([3, 0, 2, 1])
    sp.save_npz(folder / "s_adj_mat.npz", sp.csr_matrix((np.ones(4), (rows, cols)), shape=(4, 4)))
    (folder / "test.txt").write_text(test)
    return folder


@pytest.fixture
def bench(monkeypatch):
    """The benchmark script as a module (it imports its neighbour `harness`)."""
    monkeypatch.syspath_prepend(str(REPO_ROOT / "benchmarks"))
    return importlib.import_module("bench_gowalla")


@pytest.fixture
def refusal(bench, capsys):
    """The one line `load_split` (the script's reading of --data) refuses a folder with."""

    def refuse(folder: Path) -> str:
        with pytest.raises(SystemExit) as stopped:
            bench.load_split(folder)
        out, err = capsys.readouterr()
        assert stopped.value.code == 2 and out == "" and len(err.splitlines()) == 1, err
        return err

    return refuse


def test_the_command_refuses_a_folder_without_the_split_in_one_line(tmp_path):
    folder = write_split(tmp_path / "gowalla")
    (folder / "test.txt").unlink()
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "bench_gowalla.py"), "--data", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr.startswith(f"bench_gowalla: {folder} has no test.txt") and len(done.stderr.splitlines()) == 1


def test_it_reads_the_split(bench, tmp_path):
    graph, users, items = bench.load_split(write_split(tmp_path / "gowalla", "0 0\n1 1 0\n"))
    assert (graph.n_users, graph.n_items, graph.users.tolist(), graph.items.tolist()) == (2, 2, [0, 1], [1, 0])
    assert (users.tolist(), items.tolist()) == ([0, 1, 1], [0, 1, 0])


@pytest.mark.parametrize("missing", ["s_adj_mat.npz", "test.txt"])
def test_a_missing_file_is_one_line(refusal, tmp_path, missing):
    folder = write_split(tmp_path / "gowalla")
    (folder / missing).unlink()
    assert f"has no {missing}" in refusal(folder)


@pytest.mark.parametrize(
    ("test", "words"),
    [
        ("", "has no test pair"),
        ("0 a\n", "cannot read the split"),
        ("0 7\n", "names users or items the adjacency does not have"),
        ("0 -1\n", "names users or items the adjacency does not have"),
    ],
)
def test_a_test_file_it_cannot_use_is_one_line(refusal, tmp_path, test, words):
    assert words in refusal(write_split(tmp_path / "gowalla", test))


def test_an_adjacency_it_cannot_read_is_one_line(refusal, tmp_path):
    folder = write_split(tmp_path / "gowalla")
    (folder / "s_adj_mat.npz").write_bytes(b"not a zip")
    assert "cannot read the split" in refusal(folder)
    sp.save_npz(folder / "s_adj_mat.npz", sp.csr_matrix((2, 3)))
    assert "not a square adjacency" in refusal(folder)
    sp.save_npz(folder / "s_adj_mat.npz", sp.csr_matrix((4, 4)))
    assert "has no edge" in refusal(folder)


def test_test_shaped_weights_are_the_test_items_share_of_each_popularity_band_over_the_train_edges(bench):
    from tui_recommender.engine.graph import InteractionGraph

    # item 0: 3 train edges (band floor(log2 4) = 2); items 1 and 2: 1 each (band 1); item 3: none (band 0)
    graph = InteractionGraph.from_pairs(3, 4, np.array([0, 1, 2, 0, 1]), np.array([0, 0, 0, 1, 2]))
    weights = bench.test_shaped_weights(graph, np.array([0, 0, 0, 1]))
    # band 2: 3/4 of the test pairs against 3/5 of the edges; band 1: 1/4 against 2/5; band 0: no edge
    assert weights.tolist() == pytest.approx([1.25, 0.625, 0.625, 0.0])


def test_the_test_shaped_split_holds_out_its_share_of_each_user_drawn_by_the_weights(bench):
    import pandas as pd

    pairs = pd.DataFrame({"userId": [0] * 20 + [1] * 4, "movieId": [*range(20), 0, 1, 2, 3]})
    weights = np.ones(20)
    weights[[4, 11]] = 1e6  # round(10% of 20) = 2 of user 0's: nearly surely these two
    for seed in range(5):
        fit, held = bench.test_shaped_split(weights)(pairs, seed)
        assert held["userId"].tolist() == [0, 0] and sorted(held["movieId"].tolist()) == [4, 11]
        assert len(fit) == 22  # user 1 (under 5 pairs) keeps all of theirs
    weights[4] = 0.0  # a weight of 0 is never drawn
    assert all(4 not in bench.test_shaped_split(weights)(pairs, seed)[1]["movieId"].tolist() for seed in range(20))
    uniform = {tuple(bench.test_shaped_split(np.ones(20))(pairs, seed)[1]["movieId"]) for seed in range(5)}
    assert len(uniform) > 1  # random within a user, by the seed
    fit, held = bench.test_shaped_split(np.ones(20), 0.27)(pairs, 0)  # test.txt's share: round(27% of 20) = 5
    assert held["userId"].tolist() == [0] * 5 and len(fit) == 19
