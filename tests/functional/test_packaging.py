"""Packaging: the wheel carries the shipped weights and finds them once installed; the
metadata declares compatible ranges, constraints.txt the exact versions.

`.ci/run` goes further: it installs the wheel into a fresh venv and runs it from another
folder with an empty HOME."""

from __future__ import annotations

import email.parser
import hashlib
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT

ROOT = REPO_ROOT
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
WEIGHTS = sorted((ROOT / "weights").glob("*.npz"))


def constraints() -> dict[str, str]:
    """constraints.txt as {normalised name: exact version}."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            pins[normalise(name)] = version
    return pins


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return normalise(re.match(r"[A-Za-z0-9._-]+", requirement).group())


def test_every_package_on_disk_is_listed_and_weights_are_mapped_in():
    setuptools = PYPROJECT["tool"]["setuptools"]
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "tui_recommender").rglob("__init__.py")
    }
    assert set(setuptools["packages"]) == on_disk | {"tui_recommender.weights"}
    assert setuptools["package-dir"] == {"tui_recommender.weights": "weights"}
    assert WEIGHTS, "weights/ holds no checkpoint"
    assert "*.npz" in setuptools["package-data"]["tui_recommender.weights"]


def test_metadata_has_ranges_and_constraints_pin_each_dependency_exactly():
    project = PYPROJECT["project"]
    assert project["requires-python"] == ">=3.11"
    pins = constraints()
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
    for requirement in requirements:
        assert "==" not in requirement, f"{requirement}: an exact pin belongs in constraints.txt"
        assert ">=" in requirement, f"{requirement}: give a lower bound"
        assert requirement_name(requirement) in pins, f"{requirement} is not pinned in constraints.txt"
    # The CPU build on disk; a newer torch would be a multi-GB CUDA download.
    assert pins["torch"] == "2.13.0"
    assert {"textual": "8.2.8", "torch-geometric": "2.8.1"}.items() <= pins.items()


def test_scikit_learn_is_a_test_dependency_only():
    project = PYPROJECT["project"]
    assert "scikit-learn" not in {requirement_name(r) for r in project["dependencies"]}
    imports = [
        path.relative_to(ROOT)
        for path in (ROOT / "tui_recommender").rglob("*.py")
        if re.search(r"^\s*(import|from)\s+sklearn", path.read_text(encoding="utf-8"), re.M)
    ]
    assert imports == [], "the package imports scikit-learn: declare it as a runtime dependency"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built by pip from a copy of the source tree."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    tooling = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache")

    def skip(folder: str, names: list[str]) -> set[str]:
        # The top-level data/ holds downloaded datasets; tui_recommender/data is code.
        return set(tooling(folder, names)) | ({"data"} if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, source, ignore=skip)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(work / "dist"), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (built,) = (work / "dist").glob("tui_recommender-*.whl")
    return built


def test_the_wheel_carries_the_shipped_weights_and_reads_them_from_the_package(wheel, tmp_path):
    with zipfile.ZipFile(wheel) as zipped:
        for checkpoint in WEIGHTS:
            packed = zipped.read(f"tui_recommender/weights/{checkpoint.name}")
            assert sha256(packed) == sha256(checkpoint.read_bytes()), checkpoint.name
        names = zipped.namelist()
        zipped.extractall(tmp_path / "site")
    assert not [n for n in names if n.startswith(("weights/", "tests/", "data/"))]
    # Imported from the unpacked wheel (as from site-packages), from an unrelated folder.
    probe = "from tui_recommender.config.settings import Settings; print(Settings().weights_dir)"
    found = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(found) == tmp_path / "site" / "tui_recommender" / "weights"
    assert sorted(p.name for p in Path(found).glob("*.npz")) == [p.name for p in WEIGHTS]


def test_the_wheel_carries_the_license_the_type_marker_and_the_index_metadata(wheel):
    with zipfile.ZipFile(wheel) as zipped:
        names = zipped.namelist()
        (info,) = {name.split("/")[0] for name in names if name.split("/")[0].endswith(".dist-info")}
        assert zipped.read(f"{info}/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
        assert "tui_recommender/py.typed" in names  # PEP 561
        metadata = email.parser.Parser().parsestr(zipped.read(f"{info}/METADATA").decode("utf-8"))
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    # PEP 639: an SPDX expression and the file, not the legacy free-text `License:` field.
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["License"] is None
    classifiers = metadata.get_all("Classifier")
    assert "Typing :: Typed" in classifiers and "Environment :: Console" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")], (
        "the SPDX expression replaces license classifiers"
    )
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL"))
    assert urls["Repository"].startswith("https://github.com/")
    assert {"Homepage", "Issues"} <= set(urls)
    assert "lightgcn" in metadata["Keywords"].split(",")
    assert metadata["Requires-Python"] == ">=3.11"


def test_a_source_checkout_reads_the_top_level_weights_folder():
    from tui_recommender.config.settings import Settings

    assert Settings().weights_dir == ROOT / "weights"
