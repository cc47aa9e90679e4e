"""kill -9 in the middle of a stream of ratings: every rating the store confirmed is there
afterwards, and the database passes its integrity check."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.paths import REPO_ROOT
from tui_recommender.storage.database import RatingsStore

PROJECT_ROOT = REPO_ROOT


CRASHING_WRITER = """
import sys
from pathlib import Path
from tui_recommender.storage.database import RatingsStore

store = RatingsStore(Path(sys.argv[1]))
movie = 0
while True:
    movie += 1
    seq = store.put(1, movie, 0.5 + movie % 10 * 0.5)
    print(seq, movie, flush=True)
"""


def test_kill_9_loses_no_confirmed_rating(tmp_path: Path) -> None:
    path = tmp_path / "ratings.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", CRASHING_WRITER, str(path)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    confirmed: list[tuple[int, int]] = []
    try:
        assert child.stdout is not None
        while len(confirmed) < 200:
            line = child.stdout.readline()
            assert line, f"the writer died early: {child.stderr.read() if child.stderr else ''}"
            confirmed.append(tuple(map(int, line.split())))
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    confirmed += [tuple(map(int, line.split())) for line in rest.splitlines() if line.strip()]

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with RatingsStore(path) as store:
        events = store.events()
        stored = dict(zip(events["seq"], zip(events["movieId"], events["rating"])))
        for seq, movie in confirmed:
            assert stored[seq] == (movie, 0.5 + movie % 10 * 0.5)
        assert store.put(2, 10, 4.0) > confirmed[-1][0]
