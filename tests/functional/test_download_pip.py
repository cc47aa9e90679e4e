"""The mirror download runs the real pip: a `pip` package planted in the current folder
never runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.unit.data.test_download import closed_port
from tui_recommender.core.errors import DownloadError
from tui_recommender.data import download as dl


def test_a_pip_package_planted_in_the_current_folder_never_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Real pip against an index that cannot answer, started from a folder holding a regular
    `pip` package (with `__init__.py`: without it the real pip would win anyway)."""
    planted = tmp_path / "cwd" / "pip"
    planted.mkdir(parents=True)
    marker = tmp_path / "planted-code-ran"
    for module in ("__init__.py", "__main__.py"):
        (planted / module).write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text({module!r})\n")
    monkeypatch.chdir(planted.parent)
    monkeypatch.setenv("PYTHONPATH", str(planted.parent))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{closed_port()}/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    with pytest.raises(DownloadError, match=r"^pip download recbole==1\.2\.1 failed: "):
        dl.download(dl.MIRROR_NAME, tmp_path / "data", progress=True)
    assert not marker.exists()
    out, err = capfd.readouterr()
    assert out == ""  # pip's own lines went to stderr
    assert "Looking in indexes" in err
