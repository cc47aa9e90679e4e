"""The layering, checked in a fresh interpreter: the engine, the service and the CLI never
import `textual`, and the service ranks with numpy before torch is loaded."""

from __future__ import annotations

import functools
import json
import subprocess
import sys

# In import order: the service and what it needs first (torch must not load yet), then the
# torch-based engine modules and the CLI.
MODULES = (
    "tui_recommender.errors",
    "tui_recommender.config",
    "tui_recommender.id_map",
    "tui_recommender.movielens",
    "tui_recommender.checkpoint",
    "tui_recommender.ratings_store",
    "tui_recommender.graph",
    "tui_recommender.interactions",
    "tui_recommender.service",
    "tui_recommender.download",
    "tui_recommender.model",
    "tui_recommender.training",
    "tui_recommender.metrics",
    "tui_recommender.evaluation",
    "tui_recommender.cli",
)
WATCHED = ("textual", "torch", "torch_geometric")


@functools.cache
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


def test_engine_service_and_cli_never_import_textual():
    seen = loaded_after_each_import()
    assert list(seen) == list(MODULES)
    culprits = [name for name, loaded in seen.items() if "textual" in loaded]
    assert culprits == [], f"textual is imported by (first) {culprits[:1]}"


def test_service_import_does_not_load_torch():
    seen = loaded_after_each_import()
    first = next((name for name, loaded in seen.items() if "torch" in loaded), None)
    assert seen["tui_recommender.service"] == [], (
        f"importing the service loads {seen['tui_recommender.service']}; torch first appears with {first}"
    )
    assert "torch" in seen["tui_recommender.model"]  # the check can see torch at all
