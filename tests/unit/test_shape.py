"""The shape of the package, machine-checked beside ruff and import-linter: no module grows
past what one reader takes in at once."""

from __future__ import annotations

from pathlib import Path

import tui_recommender

MAX_LINES = 400


def test_no_module_is_over_400_lines() -> None:
    package = Path(tui_recommender.__file__).parent
    sizes = {
        str(path.relative_to(package)): len(path.read_text(encoding="utf-8").splitlines())
        for path in package.rglob("*.py")
    }
    assert len(sizes) > 20  # the package was found
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
