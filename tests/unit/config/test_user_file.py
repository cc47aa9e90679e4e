"""The config file: what each key sets, the precedence flags > environment > file >
defaults, and one line naming the file and the key for anything wrong (the app applies it:
tests/functional/tui/test_user_config_app.py)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.functional.cli.test_cli import assert_one_line_error, run
from tui_recommender.config.settings import Settings
from tui_recommender.config.user_file import load_user_config
from tui_recommender.core.errors import ConfigError


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The config file the app reads (`TUI_RECOMMENDER_CONFIG`), not written yet."""
    path = tmp_path / "conf" / "config.toml"
    path.parent.mkdir()
    monkeypatch.setenv("TUI_RECOMMENDER_CONFIG", str(path))
    monkeypatch.delenv("TUI_RECOMMENDER_DATA", raising=False)
    return path


def test_a_missing_file_is_an_empty_config(config_file):
    settings = Settings.resolve()
    assert settings.config_file is None
    assert (settings.genres, settings.novelty, settings.theme, dict(settings.keymap)) == ((), 0.0, None, {})


def test_every_key_is_read(config_file):
    config_file.write_text(
        'data = "movies/ml-x"\ngenres = ["Comedy", "Drama", "Comedy"]\nnovelty = 0.25\ntheme = "nord"\n'
        '[keys]\nhelp = "f1"\nrate-prompt = "e, ctrl+e"\n'
    )
    settings = Settings.resolve()
    assert settings.config_file == config_file
    assert settings.data == config_file.parent / "movies" / "ml-x"  # relative to the file
    assert settings.genres == ("Comedy", "Drama")
    assert settings.novelty == 0.25 and settings.theme == "nord"
    assert dict(settings.keymap) == {"help": "f1", "rate-prompt": "e,ctrl+e"}


def test_flags_beat_the_environment_which_beats_the_file(config_file, monkeypatch, tmp_path):
    config_file.write_text(f'data = "{tmp_path / "from-file"}"\nnovelty = 0.5\n')
    assert Settings.resolve().data == tmp_path / "from-file"
    assert Settings.resolve().novelty == 0.5
    monkeypatch.setenv("TUI_RECOMMENDER_DATA", str(tmp_path / "from-env"))
    monkeypatch.setenv("TUI_RECOMMENDER_NOVELTY", "0.75")
    assert Settings.resolve().data == tmp_path / "from-env"
    assert Settings.resolve().novelty == 0.75
    flagged = Settings.resolve(data=tmp_path / "from-flag", novelty=0.1)
    assert flagged.data == tmp_path / "from-flag" and flagged.novelty == 0.1


BAD_FILES = [
    ("novelty = \n", "not valid TOML"),
    ('colour = "red"\n', "colour: unknown key"),
    ('novelty = "high"\n', "novelty: must be a number from 0 to 1"),
    ("novelty = 1.5\n", "novelty: must be a number from 0 to 1"),
    ("novelty = true\n", "novelty: must be a number"),
    ('genres = "Comedy"\n', "genres: must be a list of genre names"),
    ("genres = [1, 2]\n", "genres: must be a list"),
    ("theme = 3\n", "theme: must be a non-empty string"),
    ("data = []\n", "data: must be a non-empty string"),
    ('keys = "q"\n', "keys: must be a table"),
    ("[keys]\nquit = 5\n", "keys.quit: must be a key"),
    ('[keys]\nquit = "ctrl q"\n', "keys.quit: must be a key"),
    ('device = "gpu"\n', "device: must be a device: auto, cpu, cuda, cuda:N, mps (got 'gpu')"),
    ('device = "cuda:x"\n', "device: must be a device"),
    ("device = 0\n", "device: must be a device"),
]


@pytest.mark.parametrize(
    ("text", "words"), BAD_FILES, ids=[words.split(":")[0] + f"-{i}" for i, (_, words) in enumerate(BAD_FILES)]
)
def test_a_bad_file_is_one_line_naming_the_file_and_the_key(capsys, config_file, small_data, state_dir, text, words):
    config_file.write_text(text)
    assert_one_line_error(*run(capsys, "recommend", "--data", str(small_data), "--user", "1"), str(config_file), words)


def test_a_file_that_is_not_utf8_or_not_a_file_is_one_line(capsys, config_file, small_data):
    config_file.write_bytes(b'theme = "\xff"\n')
    assert_one_line_error(
        *run(capsys, "recommend", "--data", str(small_data), "--user", "1"), str(config_file), "cannot be read"
    )
    config_file.unlink()
    config_file.mkdir()
    assert_one_line_error(
        *run(capsys, "recommend", "--data", str(small_data), "--user", "1"), str(config_file), "cannot be read"
    )


def test_a_bad_novelty_in_the_environment_names_the_variable(capsys, config_file, small_data, monkeypatch):
    monkeypatch.setenv("TUI_RECOMMENDER_NOVELTY", "lots")
    assert_one_line_error(
        *run(capsys, "recommend", "--data", str(small_data), "--user", "1"), "TUI_RECOMMENDER_NOVELTY", "lots"
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('theme = "neon-nights"\n', ["theme: unknown theme 'neon-nights'", "nord"]),
        ('[keys]\nfly = "f"\n', ["keys.fly: no key binding has this id", "rate-prompt"]),
    ],
    ids=["theme", "binding-id"],
)
def test_the_app_refuses_an_unknown_theme_or_binding_id_in_one_line(
    capsys, config_file, small_data, state_dir, monkeypatch, text, words
):
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # main sets it for the app; undone after the test
    config_file.write_text(text)
    assert_one_line_error(
        *run(capsys, "--data", str(small_data), "--state-dir", str(state_dir)), str(config_file), *words
    )


@given(st.text(max_size=200))
@hypothesis_settings(max_examples=150, deadline=None)
def test_any_text_loads_or_is_a_config_error(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_text(text, encoding="utf-8")
        try:
            load_user_config(path)
        except ConfigError as error:
            assert "\n" not in str(error) and str(path) in str(error)


VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=6,
)


@given(st.dictionaries(st.sampled_from(["data", "genres", "novelty", "theme"]), VALUES, max_size=4))
@hypothesis_settings(max_examples=150, deadline=None)
def test_any_value_of_a_known_key_is_read_or_refused_by_name(table):
    lines = [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            config = load_user_config(path)
        except ConfigError as error:
            message = str(error)
            assert "\n" not in message and str(path) in message
            assert "not valid TOML" in message or any(f": {key}: " in message for key in table)
        else:
            if "novelty" in table:
                assert 0.0 <= config.novelty <= 1.0
            if "genres" in table:
                assert all(isinstance(g, str) and g for g in config.genres)


def test_recommend_uses_the_config_genres_unless_given_genres(
    trained_model, capsys, config_file, small_data, state_dir, tmp_path
):

    checkpoint = trained_model.write(tmp_path / "start.npz")
    where = ["--data", str(small_data), "--state-dir", str(state_dir), "--checkpoint", str(checkpoint)]
    config_file.write_text('genres = ["horror", "Westerns"]\n')
    code, out, err = run(capsys, "recommend", *where, "--user", "2", "-k", "5", "--json")
    assert code == 0, err
    assert all("Horror" in rec["genres"] for rec in json.loads(out))
    assert "Westerns" in err and str(config_file) in err
    code, out, err = run(capsys, "recommend", *where, "--user", "2", "-k", "5", "--json", "--genre", "Drama")
    assert code == 0, err
    assert all("Drama" in rec["genres"] for rec in json.loads(out))
