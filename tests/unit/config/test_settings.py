"""Settings: every path from one place, in the documented order of precedence."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from tui_recommender.config import settings as config
from tui_recommender.config.settings import Settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("DATA", "DATA_ROOT", "STATE_DIR", "CHECKPOINT"):
        monkeypatch.delenv(config.ENV_PREFIX + name, raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    return monkeypatch


def test_data_root_prefers_the_environment_then_the_checkout_then_the_user_data_folder(clean_env, tmp_path):
    checkout = config.source_checkout()
    assert checkout is not None and (checkout / "pyproject.toml").is_file()  # the tests run from one
    assert Settings().data_root == checkout / "data"
    clean_env.setenv("TUI_RECOMMENDER_DATA_ROOT", str(tmp_path / "mine"))
    assert Settings().data_root == tmp_path / "mine"
    clean_env.delenv("TUI_RECOMMENDER_DATA_ROOT")
    clean_env.setattr(config, "source_checkout", lambda: None)  # as an installed package
    root = Settings().data_root
    assert root == platformdirs.user_data_path(config.APP_NAME)
    assert "site-packages" not in root.parts and root != Path.cwd()


def test_state_dir_never_defaults_to_the_current_directory(clean_env, tmp_path):
    for settings in (Settings(), Settings.resolve()):
        assert settings.state_dir.is_absolute()
        assert settings.state_dir != Path.cwd()
        assert settings.state_dir.name == config.APP_NAME
    clean_env.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert Settings().state_dir == tmp_path / "xdg" / config.APP_NAME
    clean_env.setenv("TUI_RECOMMENDER_STATE_DIR", str(tmp_path / "env"))
    assert Settings.resolve().state_dir == tmp_path / "env"
    assert Settings.resolve(state_dir=tmp_path / "flag").state_dir == tmp_path / "flag"


def test_state_dir_is_the_platforms_and_an_older_hand_built_one_is_kept_where_it_holds_ratings(clean_env, tmp_path):
    home = tmp_path / "home"
    clean_env.setenv("HOME", str(home))
    assert Settings().state_dir == home / ".local" / "state" / config.APP_NAME  # Linux: the XDG default
    # macOS (or Windows): platformdirs names another folder.
    mac = home / "Library" / "Application Support" / config.APP_NAME
    clean_env.setattr(platformdirs, "user_state_path", lambda name: home / "Library" / "Application Support" / name)
    assert Settings().state_dir == mac  # a new user: the platform's folder
    old = home / ".local" / "state" / config.APP_NAME
    (old / "ml-x").mkdir(parents=True)
    assert Settings().state_dir == old  # an older version's ratings: still found
    mac.mkdir(parents=True)
    assert Settings().state_dir == mac  # once the platform's folder exists, it wins
    clean_env.setenv("TUI_RECOMMENDER_STATE_DIR", str(tmp_path / "env"))
    assert Settings().state_dir == tmp_path / "env"


def test_every_path_of_a_dataset_is_under_its_state_folder(clean_env, tmp_path):
    settings = Settings.resolve(state_dir=tmp_path)
    assert settings.ratings_db("ml-x") == tmp_path / "ml-x" / config.RATINGS_DB_NAME
    assert settings.state_checkpoint("ml-x") == tmp_path / "ml-x" / config.CHECKPOINT_NAME
    assert settings.shipped_weights("ml-x") == settings.weights_dir / "ml-x.npz"
