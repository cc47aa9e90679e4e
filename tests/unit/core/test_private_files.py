"""Reading a file whole, bounded: a file whose size the OS does not tell (/proc) is read to
its end, and one past the limit is refused whatever size it claims."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_recommender.core.private_files import read_regular


def test_a_file_of_unknown_size_is_read_to_its_end_and_still_bounded() -> None:
    status = Path("/proc/self/status")
    if not status.is_file() or status.stat().st_size != 0:
        pytest.skip("needs Linux's /proc, whose files report 0 bytes")
    assert b"Name:" in read_regular(status, 1 << 20)
    with pytest.raises(OSError, match="more than the 10 bytes read at most"):
        read_regular(status, 10)


def test_a_small_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 1000)
    assert read_regular(path, 1000) == b"x" * 1000
    with pytest.raises(OSError, match="it is 1,000 bytes, more than the 999 read at most"):
        read_regular(path, 999)
