"""Checkpoint files: special files are refused before any read, the state checkpoint is
not followed when it is a link, and a temp file left by a save killed mid-write is removed
by the next save (never one a save under way is writing)."""

from __future__ import annotations

import fcntl
import mmap
import os
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tui_recommender.core.errors import CheckpointError
from tui_recommender.engine.checkpoint import load_checkpoint, save_checkpoint


@pytest.fixture
def checkpoint_file(trained_model, tmp_path: Path) -> Path:
    return trained_model.write(tmp_path / "trained" / "model.npz")


def test_a_fifo_or_a_device_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    device = tmp_path / "zero.npz"
    device.symlink_to("/dev/zero")
    outcome: list[str] = []

    def load_both() -> None:
        for path in (fifo, device):
            with pytest.raises(CheckpointError) as error:
                load_checkpoint(path)
            outcome.append(str(error.value))

    loading = threading.Thread(target=load_both, daemon=True)
    loading.start()
    loading.join(timeout=10)
    assert not loading.is_alive(), "loading a FIFO hangs"
    assert outcome == [
        f"checkpoint {fifo}: it is a FIFO (named pipe), not a regular file",
        f"checkpoint {device}: it is a character device, not a regular file",
    ]


def test_a_link_is_followed_only_where_asked(checkpoint_file: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.npz"
    link.symlink_to(checkpoint_file)
    assert load_checkpoint(link).n_users > 0  # a --checkpoint the user names may be a link
    with pytest.raises(CheckpointError, match="it is a symbolic link, which is not followed for state files"):
        load_checkpoint(link, follow_links=False)


def test_a_temp_file_left_by_a_killed_save_goes_at_the_next_save(checkpoint_file: Path) -> None:
    folder = checkpoint_file.parent
    abandoned = folder / ".model.npz.abc123.tmp"
    abandoned.write_bytes(b"half a checkpoint")
    busy = folder / ".model.npz.busy99.tmp"  # a save under way in another process holds its lock
    busy.write_bytes(b"being written")
    other = folder / ".other.npz.zzz.tmp"
    other.write_bytes(b"not ours")
    with busy.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        checkpoint = load_checkpoint(checkpoint_file)
        save_checkpoint(replace(checkpoint, applied_seq=3), checkpoint_file)
        assert not abandoned.exists() and busy.exists() and other.exists()
    assert load_checkpoint(checkpoint_file).applied_seq == 3
    assert sorted(p.name for p in folder.iterdir()) == [".model.npz.busy99.tmp", ".other.npz.zzz.tmp", "model.npz"]


def test_a_checkpoint_records_its_ratings_database(checkpoint_file: Path) -> None:
    checkpoint = load_checkpoint(checkpoint_file)
    assert checkpoint.ratings_database is None  # not recorded: as written by an older version
    save_checkpoint(replace(checkpoint, ratings_database="ab" * 16), checkpoint_file)
    assert load_checkpoint(checkpoint_file).ratings_database == "ab" * 16


def test_a_crafted_database_id_is_refused(checkpoint_file: Path) -> None:
    import json

    import numpy as np

    with np.load(checkpoint_file) as loaded:
        arrays = {name: loaded[name] for name in loaded.files}
    meta = json.loads(str(arrays.pop("meta")))
    meta["ratings_database"] = ["not", "an", "id"]
    with checkpoint_file.open("wb") as out:
        np.savez(out, meta=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(CheckpointError, match="ratings_database is \\['not', 'an', 'id'\\], not a database id"):
        load_checkpoint(checkpoint_file)


def _mapped_file(array: np.ndarray) -> bool:
    """Whether `array` is a view of a file mapping (not a copy read into memory)."""
    while array is not None and not isinstance(array, mmap.mmap):
        array = getattr(array, "base", None)
    return array is not None


def test_the_tables_are_mapped_from_the_file_and_writes_stay_in_memory(checkpoint_file: Path) -> None:
    before = checkpoint_file.read_bytes()
    loaded = load_checkpoint(checkpoint_file)
    assert _mapped_file(loaded.ego) and _mapped_file(loaded.final)
    loaded.ego[:] = 0.0  # writable (torch takes it without a warning), never written back
    assert checkpoint_file.read_bytes() == before
    assert load_checkpoint(checkpoint_file).ego.any()


def test_a_changed_byte_inside_a_mapped_table_is_corrupt(checkpoint_file: Path) -> None:
    # A flip of the lowest bit leaves a finite number: only the CRC tells.
    data = bytearray(checkpoint_file.read_bytes())
    final = load_checkpoint(checkpoint_file).final
    at = data.find(final[3].tobytes())
    assert at > 0
    data[at] ^= 1
    checkpoint_file.write_bytes(bytes(data))
    with pytest.raises(
        CheckpointError, match=r"is corrupt or truncated \(BadZipFile: Bad CRC-32 for file 'final.npy'\)$"
    ):
        load_checkpoint(checkpoint_file)
