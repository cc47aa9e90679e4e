"""The config file is bounded input: a FIFO or a device is refused before any read, a huge
or deeply nested file is one line, and a UTF-8 BOM (as some editors write) is fine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import refusals
from tui_recommender.config import user_file
from tui_recommender.config.user_file import load_user_config
from tui_recommender.core.errors import ConfigError


def refusal(path: Path) -> str:
    return refusals.refusal(load_user_config, path, ConfigError)


def test_a_fifo_or_a_link_to_a_device_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    assert refusal(fifo) == f"config file {fifo}: cannot be read (it is a FIFO (named pipe), not a regular file)"
    link = tmp_path / "zero.toml"
    link.symlink_to("/dev/zero")
    assert refusal(link) == f"config file {link}: cannot be read (it is a character device, not a regular file)"


def test_a_huge_file_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(user_file, "MAX_CONFIG_BYTES", 10)
    path = tmp_path / "config.toml"
    path.write_text('theme = "nord"\n')
    assert refusal(path) == f"config file {path}: cannot be read (it is 15 bytes, more than the 10 read at most)"


def test_nesting_5000_deep_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    assert refusal(path) == f"config file {path}: nested too deeply to be a config file"


def test_a_utf8_bom_is_not_part_of_the_first_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'\xef\xbb\xbftheme = "nord"\n')
    assert load_user_config(path).theme == "nord"
