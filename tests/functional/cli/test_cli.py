"""The command line, run in-process (`cli.main`) on `small_data`, plus one run of the
installed `tui-recommender` entry point."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.trained_model import DATASET_NAME
from tui_recommender.cli.main import main
from tui_recommender.config.settings import CHECKPOINT_NAME, RATINGS_DB_NAME
from tui_recommender.core.errors import DownloadError
from tui_recommender.core.titles import display_title
from tui_recommender.engine.checkpoint import load_checkpoint
from tui_recommender.engine.lightgcn import training as training_module
from tui_recommender.engine.train_config import TrainConfig
from tui_recommender.storage.database import RatingsStore

# training at start-up (early stopping, then the refit), not a good model
TINY = TrainConfig(dim=8, max_epochs=2, eval_every=1)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `tui-recommender argv...` run in-process."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def where(trained_model, small_data, state_dir, tmp_path) -> list[str]:
    """--data/--state-dir/--checkpoint options for a service that opens without training."""
    checkpoint = trained_model.write(tmp_path / "start.npz")
    return ["--data", str(small_data), "--state-dir", str(state_dir), "--checkpoint", str(checkpoint)]


def store_events(state_dir: Path):
    with RatingsStore(state_dir / DATASET_NAME / RATINGS_DB_NAME) as store:
        return store.events(), store.users()


def assert_one_line_error(code: int, out: str, err: str, *words: str) -> None:
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err


def recommend_json(capsys, where, *extra: str) -> list[dict]:
    code, out, err = run(capsys, "recommend", *where, "--json", *extra)
    assert code == 0, err
    assert "Traceback" not in err
    return json.loads(out)


# ---- recommend -------------------------------------------------------------------------


def test_recommend_json_fields(capsys, where, small_data):
    recs = recommend_json(capsys, where, "--user", "1", "-k", "7")
    assert len(recs) == 7
    assert [r["rank"] for r in recs] == list(range(1, 8))
    for rec in recs:
        assert set(rec) == {"rank", "movieId", "title", "year", "genres", "score", "because"}
        assert isinstance(rec["because"], str) and rec["because"]
        assert 0 < rec["score"] <= 100
        assert isinstance(rec["movieId"], int) and isinstance(rec["title"], str) and rec["title"]
        assert isinstance(rec["year"], int) and 1950 <= rec["year"] < 2020
        assert isinstance(rec["genres"], list) and all(isinstance(g, str) for g in rec["genres"])
        assert isinstance(rec["score"], float)
        assert not rec["title"].endswith(")")  # the year is its own field
    assert [r["score"] for r in recs] == sorted((r["score"] for r in recs), reverse=True)
    with (small_data / "ratings.csv").open() as ratings:
        rated = {int(row["movieId"]) for row in csv.DictReader(ratings) if row["userId"] == "1"}
    assert not rated & {r["movieId"] for r in recs}


def test_recommend_genres_and_plain_text(capsys, where):
    recs = recommend_json(capsys, where, "--user", "2", "--genre", "comedy", "--genre", "Horror", "-k", "5")
    assert len(recs) == 5 and all({"Comedy", "Horror"} & set(r["genres"]) for r in recs)
    code, out, err = run(capsys, "recommend", *where, "--user", "2", "-k", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 3 and lines[0].lstrip().startswith("1. ")


def test_recommend_prints_scores_that_fall_down_the_list_at_either_end_of_the_dial(capsys, where):
    for novelty in ("0", "1"):
        code, out, err = run(capsys, "recommend", *where, "--user", "1", "-k", "20", "--novelty", novelty)
        assert code == 0, err
        shown = [float(line.rsplit(maxsplit=1)[-1].rstrip("%")) for line in out.splitlines()]
        assert len(shown) == 20 and shown == sorted(shown, reverse=True) and 0 < shown[-1] <= shown[0] <= 100


def test_recommend_checks_the_config_files_theme_and_keys_as_the_app_does(capsys, where, tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    monkeypatch.setenv("TUI_RECOMMENDER_CONFIG", str(config))
    config.write_text('theme = "nope"\n')
    assert_one_line_error(*run(capsys, "recommend", *where, "--user", "1"), str(config), "theme: unknown theme 'nope'")
    config.write_text('[keys]\nfly = "f"\n')
    assert_one_line_error(*run(capsys, "recommend", *where, "--user", "1"), str(config), "keys.fly")
    config.write_text('[keys]\nmore = "q"\nrate-1 = "2"\n')
    code, out, err = run(capsys, "recommend", *where, "--user", "1", "-k", "3")
    assert code == 0 and len(out.splitlines()) == 3  # a clash is said, and the command runs
    assert err.splitlines() == [
        f"tui-recommender: config file {config}: keys.more: 'q' is already quit's key; more keeps its default",
        f"tui-recommender: config file {config}: keys.rate-1: '2' is already rate-2's key; rate-1 keeps its default",
    ]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--user", "9999"], ["9999"]),
        (["--user", "1", "--genre", "Western"], ["Western"]),
        (["--user", "1", "-k", "0"], ["-k"]),
        (["--user", "abc"], ["--user", "abc"]),
        (["--user", "-3"], ["--user"]),
        ([], ["--user"]),
        (["--user", "1", "--novelty", "1.5"], ["--novelty", "1.5"]),
        (["--user", "1", "--novelty", "-0.1"], ["--novelty"]),
        (["--user", "1", "--novelty", "lots"], ["--novelty", "lots"]),
        (["--user", "1", "--novelty", "nan"], ["--novelty"]),
    ],
    ids=[
        "unknown-user",
        "unknown-genre",
        "k-zero",
        "user-not-a-number",
        "user-negative",
        "user-missing",
        "novelty-above",
        "novelty-below",
        "novelty-not-a-number",
        "novelty-nan",
    ],
)
def test_recommend_user_errors_exit_2_with_one_line(capsys, where, args, words):
    assert_one_line_error(*run(capsys, "recommend", *where, *args), *words)


def test_recommend_novelty_moves_the_list_towards_less_popular_movies(capsys, where, small_data):
    with (small_data / "ratings.csv").open() as ratings:
        rows = [row for row in csv.DictReader(ratings) if float(row["rating"]) >= 3]
    popularity = {}
    for row in rows:
        popularity[int(row["movieId"])] = popularity.get(int(row["movieId"]), 0) + 1

    def mean_popularity(recs) -> float:
        return sum(popularity.get(r["movieId"], 0) for r in recs) / len(recs)

    popular = recommend_json(capsys, where, "--user", "3", "-k", "10", "--novelty", "0")
    niche = recommend_json(capsys, where, "--user", "3", "-k", "10", "--novelty", "1")
    assert mean_popularity(niche) < mean_popularity(popular)
    assert recommend_json(capsys, where, "--user", "3", "-k", "10") == popular  # the profile's default: 0


def test_unknown_command_and_option_exit_2_with_one_line(capsys, where):
    assert_one_line_error(*run(capsys, "recommand", *where))
    assert_one_line_error(*run(capsys, "recommend", *where, "--user", "1", "--frobnicate"))


def test_global_options_before_the_subcommand_are_honoured(capsys, where, small_data, tmp_path, monkeypatch):
    """`tui-recommender --data D --state-dir S recommend ...` must use D and S, as the
    same options after the subcommand do (not silently fall back to the defaults)."""
    import tui_recommender.data.download as download

    def no_default(*_args, **_kwargs):
        raise DownloadError("the default dataset was used")

    monkeypatch.setattr(download, "default_dataset", no_default)
    after = recommend_json(capsys, where, "--user", "1", "-k", "3")
    code, out, err = run(capsys, *where, "recommend", "--user", "1", "-k", "3", "--json")
    assert code == 0, err
    assert json.loads(out) == after


# ---- rate ------------------------------------------------------------------------------


def test_rate_stores_and_a_second_recommend_excludes_the_movie(capsys, where, state_dir):
    first = recommend_json(capsys, where, "--user", "1", "-k", "5")
    movie = first[0]["movieId"]
    code, out, err = run(capsys, "rate", *where, "--user", "1", "--movie", str(movie), "--rating", "4.5")
    assert code == 0, err
    assert first[0]["title"] in out and "4.5" in out
    assert re.search(r"model updated in \d+ ms", out), out  # learnt, and said so
    events, _ = store_events(state_dir)
    assert events[["userId", "movieId", "rating"]].values.tolist() == [[1, movie, 4.5]]
    assert (state_dir / DATASET_NAME / CHECKPOINT_NAME).is_file()  # the update was saved
    second = recommend_json(capsys, where, "--user", "1", "-k", "5")
    assert movie not in {r["movieId"] for r in second}


@pytest.mark.parametrize(
    ("movie", "rating", "words"),
    [("10", "7", ["7"]), ("10", "abc", ["abc"]), ("10", "3.25", ["3.25"]), ("15", "4", ["15"])],
    ids=["out-of-scale", "not-a-number", "off-step", "unknown-movie"],
)
def test_rate_rejects_bad_input_and_stores_nothing(capsys, where, state_dir, movie, rating, words):
    code, out, err = run(capsys, "rate", *where, "--user", "777", "--movie", movie, "--rating", rating)
    assert_one_line_error(code, out, err, *words)
    events, _ = store_events(state_dir)
    assert events.empty


def test_rejected_rating_for_a_new_user_leaves_no_profile_behind(capsys, where, state_dir):
    code, out, err = run(capsys, "rate", *where, "--user", "777", "--movie", "10", "--rating", "7")
    assert_one_line_error(code, out, err, "7")
    events, users = store_events(state_dir)
    assert events.empty and users == set(), "a rejected rating must store nothing, not even a profile"
    assert_one_line_error(*run(capsys, "recommend", *where, "--user", "777"), "777")


# ---- ratings export / import -----------------------------------------------------------


def seed_store(state_dir: Path) -> None:
    with RatingsStore(state_dir / DATASET_NAME / RATINGS_DB_NAME) as store:
        store.put(1, 30, 4.5, 1_700_000_000)
        store.put(2, 40, 2.0, 1_700_000_100)
        store.put(1, 30, 3.5, 1_700_000_200)  # changes the first
        store.put(3, 50, 5.0, 1_700_000_300)
        store.remove(3, 50)


EXPECTED_ROWS = [(1, 30, 3.5, 1_700_000_200), (2, 40, 2.0, 1_700_000_100)]


def test_ratings_export_csv_and_json(capsys, where, state_dir):
    seed_store(state_dir)
    code, out, err = run(capsys, "ratings", "export", *where)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    removal = [r for r in rows if r["rating"] == "removed"]  # it hides a dataset rating wherever imported
    assert [(r["userId"], r["movieId"]) for r in removal] == [("3", "50")]
    rows = [r for r in rows if r not in removal]
    assert (
        sorted((int(r["userId"]), int(r["movieId"]), float(r["rating"]), int(r["timestamp"])) for r in rows)
        == EXPECTED_ROWS
    )
    code, out, err = run(capsys, "ratings", "export", *where, "--format", "json")
    assert code == 0, err
    items = [r for r in json.loads(out) if r["rating"] != "removed"]
    assert sorted((r["userId"], r["movieId"], r["rating"], r["timestamp"]) for r in items) == EXPECTED_ROWS


def test_ratings_export_then_import_round_trips(capsys, where, state_dir, tmp_path, small_data):
    seed_store(state_dir)
    code, out, _ = run(capsys, "ratings", "export", *where, "--format", "json")
    exported = tmp_path / "mine.json"
    exported.write_text(out)
    other_state = tmp_path / "other-state"
    other = ["--data", str(small_data), "--state-dir", str(other_state)]
    code, out, err = run(capsys, "ratings", "import", *other, str(exported))
    assert code == 0, err
    assert "imported 2 ratings and 1 removal for 3 users" in out
    events, _ = store_events(other_state)
    removed = events["rating"].isna()
    assert events.loc[removed, ["userId", "movieId"]].values.tolist() == [[3, 50]]  # the removal travels
    assert (
        sorted(map(tuple, events.loc[~removed, ["userId", "movieId", "rating", "timestamp"]].values.tolist()))
        == EXPECTED_ROWS
    )


def test_ratings_import_bad_row_exits_2_naming_the_line_and_imports_nothing(capsys, where, state_dir, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("userId,movieId,rating,timestamp\n1,10,4.0,1700000000\n1,20,9,1700000000\n1,30,3.0,1700000000\n")
    assert_one_line_error(*run(capsys, "ratings", "import", *where, str(bad)), "line 3", "bad.csv")
    events, _ = store_events(state_dir)
    assert events.empty
    missing = tmp_path / "absent.csv"
    assert_one_line_error(*run(capsys, "ratings", "import", *where, str(missing)), "absent.csv")


LETTERBOXD = "Date,Name,Year,Letterboxd URI,Rating\n"


def letterboxd_rows(small_data: Path, n: int) -> str:
    """Letterboxd rows for the first `n` movies of `small_data` (4.5 stars), then one unknown."""
    movies = list(csv.DictReader(io.StringIO((small_data / "movies.csv").read_text())))[:n]
    rows = [f'2024-01-01,"{m["title"][:-7]}",{m["title"][-5:-1]},https://boxd.it/x,4.5' for m in movies]
    return LETTERBOXD + "\n".join([*rows, "2024-01-02,Not In The Data,1999,https://boxd.it/y,3"]) + "\n"


def test_ratings_import_letterboxd_reports_stores_and_updates_the_model_once(
    capsys, where, state_dir, tmp_path, small_data
):
    path = tmp_path / "ratings.csv"
    path.write_text(letterboxd_rows(small_data, 5))
    code, out, err = run(capsys, "ratings", "import", *where, "--user", "500", "--dry-run", str(path))
    assert code == 0, err
    assert out.splitlines()[0] == "ratings.csv (Letterboxd ratings): would import 5 ratings for user 500"
    assert out.splitlines()[-1] == "dry run: nothing stored"
    assert "line 7: Not In The Data (1999): not in the dataset" in out
    movies = list(csv.DictReader(io.StringIO((small_data / "movies.csv").read_text())))[:5]
    assert out.splitlines()[1:7] == ["matched:"] + [
        f"  {display_title(m['title'][:-7])} ({m['title'][-5:-1]}) #{m['movieId']}: 4.5★" for m in movies
    ]
    # It creates nothing: no database, no state folder (nor a log in it), no parse cache.
    assert not state_dir.exists() and not list(small_data.parent.glob(".*.cache"))
    code, out, err = run(capsys, "ratings", "import", *where, "--user", "500", str(path))
    assert code == 0, err
    lines = out.splitlines()
    assert (
        lines[0] == "ratings.csv (Letterboxd ratings): imported 5 ratings for user 500"
    )  # no "matched" list once stored
    assert lines[1:3] == ["unmatched 1:", "  line 7: Not In The Data (1999): not in the dataset"]
    assert lines[3].startswith("model updated in ") and "(5 ratings)" in lines[3]
    events, users = store_events(state_dir)
    assert len(events) == 5 and 500 in users


@pytest.mark.parametrize(
    "content, words",
    [
        ("Title,Seen\nAlien,yes\n", ["unknown format", "'Title,Seen'", "IMDb ratings", "Letterboxd ratings"]),
        (LETTERBOXD + "2024-01-01,Alien,1979,u,4\n2024-01-01,Alien,1979,u,4.2\n", ["line 3", "Rating '4.2'"]),
    ],
    ids=["unknown-format", "malformed-row"],
)
def test_ratings_import_bad_files_exit_2_with_one_line_and_store_nothing(
    capsys, where, state_dir, tmp_path, content, words
):
    path = tmp_path / "export.csv"
    path.write_text(content)
    assert_one_line_error(*run(capsys, "ratings", "import", *where, "--user", "500", str(path)), *words)
    assert store_events(state_dir)[0].empty


def test_ratings_import_of_letterboxd_needs_a_user(capsys, where, tmp_path, small_data):
    path = tmp_path / "ratings.csv"
    path.write_text(letterboxd_rows(small_data, 1))
    assert_one_line_error(*run(capsys, "ratings", "import", *where, str(path)), "--user")
    assert_one_line_error(*run(capsys, "ratings", "import", *where, "--user", "0", str(path)), "'0'")


# ---- train / evaluate ------------------------------------------------------------------


def test_train_json_on_small_data(capsys, small_data, state_dir):
    code, out, err = run(
        capsys, "train", "--data", str(small_data), "--state-dir", str(state_dir), "--epochs", "10", "--json"
    )
    assert code == 0, err
    assert len(out.splitlines()) == 1
    summary = json.loads(out)
    # Early stopping watched 10 epochs (checks at 5 and 10); the refit on every pair then ran the best count.
    assert summary["validation_epochs"] == 10 and summary["best_epoch"] in (5, 10)
    assert summary["epochs"] == summary["best_epoch"]
    assert summary["seconds_per_epoch"] > 0 and summary["seconds"] >= summary["seconds_per_epoch"]
    assert summary["hyperparameters"]["max_epochs"] == 10
    assert summary["positives"] == sum(
        1 for line in (small_data / "ratings.csv").read_text().splitlines()[1:] if float(line.split(",")[2]) >= 3
    )
    assert "recall@20" in summary["validation"]
    checkpoint = load_checkpoint(Path(summary["checkpoint"]))
    assert Path(summary["checkpoint"]) == state_dir / DATASET_NAME / CHECKPOINT_NAME
    assert checkpoint.config.max_epochs == 10


def test_train_with_too_few_epochs_to_choose_from_trains_them_once_on_every_rating(capsys, small_data, state_dir):
    # One validation check at most (--epochs 3, a check every 5): early stopping could only keep all 3
    code, out, err = run(capsys, "train", "--data", str(small_data), "--state-dir", str(state_dir), "--epochs", "3")
    assert code == 0, err
    assert out.startswith("trained 3 epochs (") and "on every rating, too few epochs for early stopping" in out
    code, out, err = run(
        capsys, "train", "--data", str(small_data), "--state-dir", str(state_dir), "--epochs", "3", "--json"
    )
    summary = json.loads(out)
    assert (summary["epochs"], summary["validation_epochs"], summary["best_epoch"]) == (3, 0, 3)
    assert summary["validation"] == {}


def test_evaluate_json_on_small_data(capsys, small_data, state_dir):
    code, out, err = run(
        capsys, "evaluate", "--data", str(small_data), "--state-dir", str(state_dir), "--epochs", "5", "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    metrics = report["metrics"]
    for k in (10, 20):
        for name in ("recall", "ndcg", "precision"):
            assert 0.0 <= metrics[f"{name}@{k}"] <= 1.0
    assert metrics["recall@20"] >= metrics["recall@10"]
    assert report["train_seconds"] >= 0 and report["training"]["epochs"] == 5
    n_positives = sum(
        1 for line in (small_data / "ratings.csv").read_text().splitlines()[1:] if float(line.split(",")[2]) >= 3
    )
    assert report["train_positives"] + report["test_positives"] == n_positives
    assert 0.15 * n_positives < report["test_positives"] < 0.25 * n_positives
    assert report["hyperparameters"]["max_epochs"] == 5


def test_evaluate_with_baselines_on_the_same_split(capsys, small_data, state_dir):
    where = ("--data", str(small_data), "--state-dir", str(state_dir), "--epochs", "5")
    code, out, err = run(capsys, "evaluate", *where, "--baselines", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert [row["model"] for row in report["models"]] == ["LightGCN", "most-popular", "EASE"]
    assert len({frozenset(row["metrics"]) for row in report["models"]}) == 1
    assert report["models"][2]["lambda"] > 0 and all(row["fit_seconds"] >= 0 for row in report["models"])
    code, out, err = run(capsys, "evaluate", *where, "--baselines")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].split()[:4] == ["model", "Recall@10", "NDCG@10", "Prec@10"]
    assert [line.split()[0] for line in lines[2:]] == ["LightGCN", "most-popular", "EASE"]
    assert f"{report['models'][1]['metrics']['recall@20']:.4f}" in lines[3]


def test_epochs_must_be_positive(capsys, small_data, state_dir):
    assert_one_line_error(*run(capsys, "train", "--data", str(small_data), "--epochs", "0"), "--epochs")


# ---- fallbacks and offline -------------------------------------------------------------


def test_corrupt_explicit_checkpoint_exits_2_with_why(
    trained_model, capsys, small_data, state_dir, tmp_path, monkeypatch
):
    monkeypatch.setattr(training_module, "train_checkpoint", pytest.fail)  # never trains instead
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(trained_model.checkpoint[:1000])
    code, out, err = run(
        capsys,
        "recommend",
        "--data",
        str(small_data),
        "--state-dir",
        str(state_dir),
        "--checkpoint",
        str(corrupt),
        "--user",
        "1",
        "-k",
        "3",
        "--json",
    )
    assert_one_line_error(code, out, err, str(corrupt), "corrupt or truncated")


def test_corrupt_state_checkpoint_falls_back_with_a_message(
    trained_model, capsys, small_data, state_dir, tmp_path, monkeypatch
):
    real = training_module.train_checkpoint
    monkeypatch.setattr(
        training_module, "train_checkpoint", lambda data, ratings, config=None, **kw: real(data, ratings, TINY, **kw)
    )
    corrupt = state_dir / DATASET_NAME / "model.npz"
    corrupt.parent.mkdir(parents=True)
    corrupt.write_bytes(trained_model.checkpoint[:1000])
    code, out, err = run(
        capsys,
        "recommend",
        "--data",
        str(small_data),
        "--state-dir",
        str(state_dir),
        "--user",
        "1",
        "-k",
        "3",
        "--json",
    )
    assert code == 0, err
    assert len(json.loads(out)) == 3
    assert "Traceback" not in err
    assert any(str(corrupt) in line and ("corrupt" in line or "truncated" in line) for line in err.splitlines()), err


def test_data_download_offline_exits_2_after_one_bounded_attempt(capsys, tmp_path, monkeypatch):
    import urllib.request

    import tui_recommender.data.download as download

    # Port 9 (discard) on localhost refuses at once: offline without depending on DNS.
    monkeypatch.setattr(download, "GROUPLENS_URL", "http://127.0.0.1:9/{name}.zip")
    root = tmp_path / "data"
    monkeypatch.setenv("TUI_RECOMMENDER_DATA_ROOT", str(root))
    attempts = []
    urlopen = urllib.request.urlopen

    def counted(url, *args, **kwargs):
        attempts.append(kwargs.get("timeout"))
        return urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", counted)
    code, out, err = run(capsys, "data", "download", "ml-latest-small")
    # Fast offline means: one attempt, with a timeout, no retries.
    assert len(attempts) == 1 and attempts[0] is not None and attempts[0] <= 60
    assert_one_line_error(code, out, err, "cannot download", "127.0.0.1")
    assert not any(root.iterdir())  # no half-downloaded folder left behind


def test_installed_entry_point_recommends(trained_model, small_data, state_dir, tmp_path):
    checkpoint = trained_model.write(tmp_path / "start.npz")
    exe = Path(sys.executable).with_name("tui-recommender")
    assert exe.is_file(), "the package's console script is not installed in this venv"
    env = {**os.environ, "TUI_RECOMMENDER_STATE_DIR": str(state_dir)}
    result = subprocess.run(
        [str(exe), "recommend", "--data", str(small_data), "--checkpoint", str(checkpoint), "--user", "3", "-k", "4", "--json"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    recs = json.loads(result.stdout)
    fields = {"rank", "movieId", "title", "year", "genres", "score", "because"}
    assert len(recs) == 4 and all(set(r) == fields for r in recs)
