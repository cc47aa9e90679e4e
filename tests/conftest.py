from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.paths import SHARED_ML_SMALL, TESTS
from tests.synthetic import write_movielens
from tests.trained_model import TrainedModel, train_small_checkpoint


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Harlequin's split into unit and functional tests, by folder: `tests/functional` (the
    real app driven headless, the CLI end to end, installs, fresh interpreters) and any test
    marked `realdata` are functional; every other test is a unit test (`pytest -m unit`)."""
    for item in items:
        in_functional = item.path.relative_to(TESTS).parts[0] == "functional"
        if in_functional or item.get_closest_marker("realdata"):
            item.add_marker(pytest.mark.functional)
        else:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True)
def no_user_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's own config file never reaches a test: each reads an absent one unless it
    writes its own (`TUI_RECOMMENDER_CONFIG`)."""
    monkeypatch.setenv("TUI_RECOMMENDER_CONFIG", str(tmp_path_factory.mktemp("config") / "absent.toml"))
    monkeypatch.delenv("TUI_RECOMMENDER_NOVELTY", raising=False)


@pytest.fixture
def small_data(tmp_path: Path) -> Path:
    """A generated ml-latest-small-layout dataset folder (40 users, 80 movies)."""
    return write_movielens(tmp_path / "ml-test")


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated state dir, also set in the environment so nothing touches ~/.local."""
    path = tmp_path / "state"
    monkeypatch.setenv("TUI_RECOMMENDER_STATE_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """The shared small checkpoint (tests.trained_model), trained once per session."""
    return TrainedModel(train_small_checkpoint(tmp_path_factory.mktemp("trained")))


@pytest.fixture
def ml_latest_small() -> Path:
    """The real MovieLens ml-latest-small from ../shared; skips where it is absent."""
    if not (SHARED_ML_SMALL / "ratings.csv").is_file():
        pytest.skip("../shared/datasets/ml-latest-small is not present")
    return SHARED_ML_SMALL


class GraphBuilds(list):
    """One entry per whole-graph build from ratings (`_RatingColumns.graph`) made on the
    test's own thread; `stand_in`, when set, is returned instead of building."""

    stand_in = None


@pytest.fixture
def graph_builds(monkeypatch: pytest.MonkeyPatch) -> GraphBuilds:
    """Counts the test's whole-graph builds. Other threads build as usual, uncounted: an earlier
    test's catch-up may still be finishing (`close()` cancels only one yet to start)."""
    from tui_recommender.engine import interactions

    builds, here, build = GraphBuilds(), threading.get_ident(), interactions._RatingColumns.graph

    def counted(self, *args):
        if threading.get_ident() != here:
            return build(self, *args)
        builds.append(1)
        return build(self, *args) if builds.stand_in is None else builds.stand_in

    monkeypatch.setattr(interactions._RatingColumns, "graph", counted)
    return builds
