"""Folders the tests read, resolved once from this file's place in the repository."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO_ROOT = TESTS.parent
FIXTURES = TESTS / "fixtures"
SHARED_ML_SMALL = REPO_ROOT.parent / "shared" / "datasets" / "ml-latest-small"
