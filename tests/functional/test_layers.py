"""The layering, checked in a fresh interpreter: the engine, the service and the CLI never
import `textual`, and the service ranks with numpy before torch is loaded."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.paths import REPO_ROOT

# In import order: the service and what it needs first (torch must not load yet), then the
# torch-based engine modules and the CLI.
MODULES = (
    "tui_recommender.core.errors",
    "tui_recommender.config.settings",
    "tui_recommender.engine.id_map",
    "tui_recommender.data.movielens",
    "tui_recommender.engine.checkpoint",
    "tui_recommender.storage.database",
    "tui_recommender.engine.graph",
    "tui_recommender.engine.interactions",
    "tui_recommender.app.service",
    "tui_recommender.data.download",
    "tui_recommender.engine.lightgcn.model",
    "tui_recommender.engine.lightgcn.training",
    "tui_recommender.engine.metrics",
    "tui_recommender.engine.evaluation",
    "tui_recommender.cli.main",
)
WATCHED = ("textual", "torch", "torch_geometric")


@pytest.fixture(scope="session")
def loaded_after_each_import() -> dict[str, list[str]]:
    """In a fresh interpreter, import MODULES one by one; for each, which WATCHED top-level
    packages are in sys.modules right after it."""
    script = f"""
import importlib, json, sys
seen = {{}}
for name in {list(MODULES)!r}:
    importlib.import_module(name)
    seen[name] = [w for w in {list(WATCHED)!r} if w in sys.modules]
print(json.dumps(seen))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_engine_service_and_cli_never_import_textual(loaded_after_each_import):
    seen = loaded_after_each_import
    assert list(seen) == list(MODULES)
    culprits = [name for name, loaded in seen.items() if "textual" in loaded]
    assert culprits == [], f"textual is imported by (first) {culprits[:1]}"


def test_service_import_does_not_load_torch(loaded_after_each_import):
    seen = loaded_after_each_import
    first = next((name for name, loaded in seen.items() if "torch" in loaded), None)
    assert seen["tui_recommender.app.service"] == [], (
        f"importing the service loads {seen['tui_recommender.app.service']}; torch first appears with {first}"
    )
    assert "torch" in seen["tui_recommender.engine.lightgcn.model"]  # the check can see torch at all


def test_the_store_imports_neither_torch_nor_textual() -> None:
    probe = "import sys, tui_recommender.storage.database;print(sorted(m for m in ('torch', 'textual') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_data_layer_does_not_import_torch_or_textual() -> None:
    code = (
        "import sys, tui_recommender.data.download, tui_recommender.data.movielens; "
        "print(sorted(m for m in ('torch', 'textual', 'recbole') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_checkpoint_is_served_without_torch(trained_model, small_data, tmp_path) -> None:
    # The service opened from a checkpoint (mapped from its file) ranks a known user, a
    # rated new profile and a search with numpy alone: torch loads only for an update.
    checkpoint = trained_model.write(tmp_path / "model.npz")
    code = f"""
import sys
from tui_recommender.app.service import RecommenderService
from tui_recommender.config.settings import Settings
service = RecommenderService.open(Settings.resolve(data={str(small_data)!r}, state_dir={str(tmp_path / "state")!r}, checkpoint={str(checkpoint)!r}))
first = service.movie(int(service.data.movies.index[0]))
assert service.recommend(1, k=5) and service.search_movies(first.title)
new = service.create_user()
service.rate(new, first.movie_id, 5.0)
assert service.recommend(new, k=5)
print(sorted(m for m in ("torch", "torch_geometric") if m in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
