"""Checkpoints: round trip, atomic saves, every way a file can be bad, and the service
falling back past a bad or foreign checkpoint instead of crashing."""

from __future__ import annotations

import errno
import json
import math
import os
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.trained_model import DATASET_NAME
from tui_recommender.app.model_source import ModelSource
from tui_recommender.app.service import RecommenderService, SourceKind
from tui_recommender.config.settings import CHECKPOINT_NAME, Settings
from tui_recommender.core.errors import CheckpointError
from tui_recommender.engine import saved_arrays
from tui_recommender.engine.checkpoint import FORMAT_VERSION, Checkpoint, load_checkpoint, save_checkpoint
from tui_recommender.engine.lightgcn import training as training_module
from tui_recommender.engine.train_config import TrainConfig


def sample_checkpoint(seed: int = 0, n_users: int = 3, n_items: int = 4, dim: int = 5) -> Checkpoint:
    rng = np.random.default_rng(seed)
    rows = n_users + n_items
    return Checkpoint(
        ego=rng.normal(size=(rows, dim)),  # float64 on purpose: saved as float32
        final=rng.normal(size=(rows, dim)).astype(np.float32),
        user_ids=np.array([5, 1, 9])[:n_users],
        item_ids=np.arange(1, n_items + 1) * 10,
        config=TrainConfig(dim=dim, n_layers=3, lr=0.01),
        dataset="ml-test",
        fingerprint="ab" * 32,
        metrics={"validation": {"recall@20": 0.25}, "epochs": 7},
        trained_seq=4,
        applied_seq=6,
    )


def raw_npz(path: Path, meta: object, **arrays: np.ndarray) -> Path:
    """An npz written by hand, for files `save_checkpoint` would never write."""
    base = sample_checkpoint()
    content = {
        "ego": base.ego.astype(np.float32),
        "final": base.final,
        "user_ids": base.user_ids,
        "item_ids": base.item_ids,
    }
    content.update(arrays)
    with path.open("wb") as out:
        np.savez(out, meta=np.array(json.dumps(meta)), **content)
    return path


def test_round_trip_keeps_arrays_maps_and_metadata(tmp_path):
    original = sample_checkpoint()
    path = save_checkpoint(original, tmp_path / "deep" / "folder" / "model.npz")
    loaded = load_checkpoint(path)
    np.testing.assert_array_equal(loaded.ego, original.ego.astype(np.float32))
    np.testing.assert_array_equal(loaded.final, original.final)
    assert loaded.ego.dtype == loaded.final.dtype == np.float32
    np.testing.assert_array_equal(loaded.user_ids, original.user_ids)
    np.testing.assert_array_equal(loaded.item_ids, original.item_ids)
    assert loaded.user_ids.dtype == loaded.item_ids.dtype == np.int64
    assert (loaded.n_users, loaded.n_items) == (3, 4)
    for name in ("config", "dataset", "fingerprint", "metrics", "trained_seq", "applied_seq"):
        assert getattr(loaded, name) == getattr(original, name), name


def test_save_replaces_an_existing_checkpoint(tmp_path):
    path = tmp_path / "model.npz"
    save_checkpoint(sample_checkpoint(seed=0), path)
    save_checkpoint(sample_checkpoint(seed=1), path)
    np.testing.assert_array_equal(load_checkpoint(path).final, sample_checkpoint(seed=1).final)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_failed_rename_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = save_checkpoint(sample_checkpoint(seed=0), tmp_path / "model.npz")
    before = path.read_bytes()

    def fail(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(CheckpointError, match=r"^cannot save the checkpoint .*model\.npz: No space left on device$"):
        save_checkpoint(sample_checkpoint(seed=1), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_crash_while_writing_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = save_checkpoint(sample_checkpoint(seed=0), tmp_path / "model.npz")
    before = path.read_bytes()

    def half_written(out, _arrays):
        out.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt  # e.g. Ctrl-C mid-save

    monkeypatch.setattr(saved_arrays, "_write_npz", half_written)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(sample_checkpoint(seed=1), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    np.testing.assert_array_equal(load_checkpoint(path).final, sample_checkpoint(seed=0).final)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist") as error:
        load_checkpoint(tmp_path / "nope.npz")
    assert "nope.npz" in str(error.value)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated-half"),
        pytest.param(lambda data: data[:-10], id="truncated-tail"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: bytes(range(256)) * 20, id="garbage"),
        pytest.param(lambda data: b"not a checkpoint at all\n" * 50, id="text"),
        pytest.param(lambda data: data[:600] + bytes(200) + data[800:], id="zeroed-middle"),
    ],
)
def test_damaged_files_raise_checkpoint_error_naming_the_file(tmp_path, damage):
    path = save_checkpoint(sample_checkpoint(n_users=3, n_items=4, dim=16), tmp_path / "model.npz")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    message = str(error.value)
    assert str(path) in message and ("corrupt" in message or "truncated" in message)
    assert "\n" not in message


def test_unknown_compression_method_in_the_zip_directory_is_a_checkpoint_error(tmp_path):
    """A flipped byte in the zip's central directory can name a compression method zipfile
    does not know: that is corruption too, not a crash."""
    path = save_checkpoint(sample_checkpoint(), tmp_path / "model.npz")
    assert path.read_bytes().find(b"PK\x01\x02") > 0  # a central-directory entry to damage
    path.write_bytes(damaged_copy(path.read_bytes(), "bad-compression"))
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(path)


def test_wrong_format_version(tmp_path):
    meta = {**sample_checkpoint()._meta(), "format_version": FORMAT_VERSION + 1}
    path = raw_npz(tmp_path / "future.npz", meta)
    with pytest.raises(CheckpointError, match=f"format version {FORMAT_VERSION + 1}") as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)


def test_metadata_that_is_not_an_object_is_a_checkpoint_error(tmp_path):
    path = raw_npz(tmp_path / "odd.npz", [FORMAT_VERSION, "ml-test"])
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)


def test_missing_metadata_field_and_missing_array(tmp_path):
    meta = sample_checkpoint()._meta()
    del meta["fingerprint"]
    with pytest.raises(CheckpointError, match="metadata"):
        load_checkpoint(raw_npz(tmp_path / "no-fp.npz", meta))
    full = sample_checkpoint()
    with (tmp_path / "no-final.npz").open("wb") as out:
        np.savez(
            out, meta=np.array(json.dumps(full._meta())), ego=full.ego, user_ids=full.user_ids, item_ids=full.item_ids
        )
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(tmp_path / "no-final.npz")


def test_inconsistent_shapes(tmp_path):
    meta = sample_checkpoint()._meta()
    with pytest.raises(CheckpointError, match="inconsistent"):
        load_checkpoint(
            raw_npz(tmp_path / "rows.npz", meta, ego=np.zeros((6, 5), np.float32), final=np.zeros((6, 5), np.float32))
        )
    with pytest.raises(CheckpointError, match="inconsistent"):
        load_checkpoint(raw_npz(tmp_path / "final.npz", meta, final=np.zeros((7, 4), np.float32)))


_META = sample_checkpoint()._meta()


@pytest.mark.parametrize(
    ("meta", "arrays", "problem"),
    [
        (_META, {"user_ids": np.array([5, 5, 9])}, "user_ids lists an id twice"),
        (_META, {"item_ids": np.array([10, 10, 30, 40])}, "item_ids lists an id twice"),
        ({**_META, "hyperparameters": "lr=0.1"}, {}, "its hyperparameters are not an object"),
        (
            {**_META, "hyperparameters": {"n_layers": "three"}},
            {},
            "hyperparameter n_layers is 'three', not a whole number",
        ),
        ({**_META, "hyperparameters": {"n_layers": 2.0}}, {}, "hyperparameter n_layers is 2.0, not a whole number"),
        ({**_META, "hyperparameters": {"seed": -5}}, {}, "hyperparameter seed is -5, not a whole number"),
        ({**_META, "hyperparameters": {"dim": 6}}, {}, "hyperparameter dim is 6 but the embeddings have 5 columns"),
        (
            {**_META, "hyperparameters": {"scoring": "euclid"}},
            {},
            "hyperparameter scoring is 'euclid', not one of dot, cosine, adaptive",
        ),
        (
            {**_META, "hyperparameters": {"n_layers": 2, "layer_weights": [1, 1]}},
            {},
            "hyperparameter layer_weights is [1, 1], not n_layers + 1",
        ),
        (
            {**_META, "hyperparameters": {"layer_weights": [1, 1, "x", 1]}},
            {},
            "hyperparameter layer_weights is [1, 1, 'x', 1], not n_layers + 1",
        ),
        (
            {**_META, "hyperparameters": {"loss": "softmax", "temperature": "abc"}},
            {},
            "hyperparameter temperature is 'abc', not a number above 0",
        ),
        ({**_META, "hyperparameters": {"reg": [1]}}, {}, "hyperparameter reg is [1], not a number from 0"),
        ({**_META, "hyperparameters": {"reg": math.nan}}, {}, "hyperparameter reg is nan, not a number from 0"),
        ({**_META, "hyperparameters": {"temperature": 0}}, {}, "hyperparameter temperature is 0, not a number above 0"),
        ({**_META, "hyperparameters": {"loss": "hinge"}}, {}, "hyperparameter loss is 'hinge', not one of"),
        ({**_META, "hyperparameters": {"lr": 1e400}}, {}, "hyperparameter lr is inf, not a number above 0"),
        ({**_META, "hyperparameters": {"refit": 1}}, {}, "hyperparameter refit is 1, not true or false"),
        ({**_META, "hyperparameters": {"dim": 5, "device": "cuda"}}, {}, "unknown hyperparameter 'device'"),
        ({**_META, "hyperparameters": {"dropout": 0.1}}, {}, "unknown hyperparameter 'dropout'"),
        ({**_META, "trained_seq": 1e400}, {}, "trained_seq is inf, not a whole number"),
        ({**_META, "applied_seq": True}, {}, "applied_seq is True, not a whole number"),
        ({**_META, "trained_users": 4}, {}, "trained_users is 4, not a whole number from 0 to 3"),
        ({**_META, "metrics": [0.3]}, {}, "its metrics are not an object"),
        ({**_META, "fingerprint": 5}, {}, "its dataset name or fingerprint is not text"),
        (_META, {"ego": np.full((7, 5), "a")}, "the ego embeddings are <U1, not floating point"),
        (_META, {"final": np.ones((7, 5), dtype=np.int64)}, "the final embeddings are int64, not floating point"),
        (
            _META,
            {"ego": np.ones((7, 5, 1), np.float32), "final": np.ones((7, 5, 1), np.float32)},
            "inconsistent: (7, 5, 1) embeddings",
        ),
        (_META, {"final": np.full((7, 5), np.nan, np.float32)}, "its embeddings hold NaN or infinite values"),
        (
            _META,
            {"user_ids": np.array([5.0, 1.0, 9.0])},
            "user_ids is float64 of shape (3,), not a list of integer ids",
        ),
        (_META, {"user_ids": np.array([2**62, 1, 9])}, "user_ids holds ids outside 1 to 2147483647"),
        (
            _META,
            {"item_ids": np.array(["a", "b", "c", "d"])},
            "item_ids is <U1 of shape (4,), not a list of integer ids",
        ),
    ],
)
def test_crafted_checkpoint_is_damaged_like_any_other(tmp_path, meta, arrays, problem):
    path = raw_npz(tmp_path / "model.npz", meta, **arrays)
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    message = str(error.value)
    assert message.startswith(f"checkpoint {path} is damaged: {problem}") and "\n" not in message


def test_metadata_nested_too_deep_is_corrupt(tmp_path):
    path = tmp_path / "model.npz"
    base = sample_checkpoint()
    with path.open("wb") as out:
        np.savez(
            out,
            meta=np.array("[" * 100_000 + "]" * 100_000),
            ego=base.ego,
            final=base.final,
            user_ids=base.user_ids,
            item_ids=base.item_ids,
        )
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(path)


def test_folder_or_impossible_path_where_the_checkpoint_should_be(tmp_path):
    folder = tmp_path / "model.npz"
    folder.mkdir()
    with pytest.raises(CheckpointError, match=r"model\.npz is a folder, not a checkpoint file$"):
        load_checkpoint(folder)
    with pytest.raises(CheckpointError, match=r"^cannot save the checkpoint .*model\.npz: Is a directory$"):
        save_checkpoint(sample_checkpoint(), folder)
    a_file = save_checkpoint(sample_checkpoint(), tmp_path / "file.npz")
    with pytest.raises(CheckpointError, match=r"a part of the path is a file, not a folder$"):
        save_checkpoint(sample_checkpoint(), a_file / "model.npz")
    too_long = tmp_path / ("x" * 300)
    for attempt in (lambda: load_checkpoint(too_long), lambda: save_checkpoint(sample_checkpoint(), too_long)):
        with pytest.raises(CheckpointError, match=r"File name too long$") as error:
            attempt()
        assert len(str(error.value)) < 300
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.npz", "model.npz"]


# ---- the service falling back ----------------------------------------------------------


@pytest.fixture
def quick_startup_training(trained_model, monkeypatch):
    """Training at start-up with a tiny config (a second, not the default's minutes).
    Takes `trained_model` so the shared checkpoint is trained before the patch counts calls."""
    real = training_module.train_checkpoint
    calls = []

    def train_small(data, ratings, config=None, **kwargs):
        calls.append(data.name)
        return real(data, ratings, TrainConfig(dim=8, max_epochs=2), **kwargs)

    monkeypatch.setattr(training_module, "train_checkpoint", train_small)
    return calls


def state_checkpoint(state_dir: Path) -> Path:
    return state_dir / DATASET_NAME / CHECKPOINT_NAME


def damaged_copy(good: bytes, damage: str) -> bytes:
    """`good` checkpoint bytes damaged one way."""
    if damage == "garbage":
        return os.urandom(4000)
    if damage == "truncated":
        return good[: len(good) // 2]
    data = bytearray(good)
    central = data.find(b"PK\x01\x02")
    data[central + 10 : central + 12] = struct.pack("<H", 0xFF)  # unknown compression method
    return bytes(data)


@pytest.mark.parametrize(
    "damage", ["garbage", "truncated", "bad-compression", "meta-list", "duplicate-ids", "n_layers-text", "folder"]
)
def test_bad_state_checkpoint_is_skipped_for_the_next_candidate(
    trained_model, small_data, state_dir, tmp_path, quick_startup_training, damage
):
    bad = state_checkpoint(state_dir)
    bad.parent.mkdir(parents=True)
    good = load_checkpoint(trained_model.write(tmp_path / "good.npz"))
    if damage == "meta-list":
        raw_npz(bad, [1, 2, 3])
    elif damage == "duplicate-ids":
        save_checkpoint(
            replace(good, user_ids=np.where(good.user_ids == good.user_ids[1], good.user_ids[0], good.user_ids)), bad
        )
    elif damage == "n_layers-text":
        meta = good._meta()
        meta["hyperparameters"]["n_layers"] = "three"
        raw_npz(bad, meta, ego=good.ego, final=good.final, user_ids=good.user_ids, item_ids=good.item_ids)
    elif damage == "folder":
        bad.mkdir()
    else:
        bad.write_bytes(damaged_copy(trained_model.checkpoint, damage))
    messages = []
    service = trained_model.open_service(small_data, state_dir, on_status=messages.append)
    try:
        assert service.model_source.kind == SourceKind.SHIPPED
        assert any("Skipping fine-tuned state" in m and str(bad) in m for m in messages), messages
        assert quick_startup_training == []
        assert len(service.recommend(1, k=5)) == 5
    finally:
        service.close()


def test_bad_state_checkpoint_without_other_candidate_trains_instead(
    trained_model, small_data, state_dir, tmp_path, quick_startup_training
):
    bad = state_checkpoint(state_dir)
    bad.parent.mkdir(parents=True)
    bad.write_bytes(damaged_copy(trained_model.checkpoint, "truncated"))
    messages = []
    settings = Settings.resolve(data=small_data, state_dir=state_dir)
    service = RecommenderService.open(replace(settings, weights_dir=tmp_path / "no-weights"), on_status=messages.append)
    try:
        assert service.model_source.kind == SourceKind.TRAINED
        assert service.model_source.path == bad
        assert quick_startup_training == [DATASET_NAME]
        assert any("Skipping fine-tuned state" in m for m in messages), messages
        assert len(service.recommend(1, k=5)) == 5
    finally:
        service.close()
    # The freshly trained model replaced the bad file.
    assert load_checkpoint(bad).fingerprint == service.data.fingerprint


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda c: replace(c, fingerprint="0" * 64), id="other-fingerprint"),
        pytest.param(lambda c: replace(c, item_ids=c.item_ids + 1), id="other-movies"),
    ],
)
def test_checkpoint_trained_on_other_data_is_skipped(
    trained_model, small_data, state_dir, tmp_path, quick_startup_training, tamper
):
    ours = load_checkpoint(trained_model.write(tmp_path / "ours.npz"))
    save_checkpoint(tamper(ours), state_checkpoint(state_dir))
    messages = []
    service = trained_model.open_service(small_data, state_dir, on_status=messages.append)
    try:
        assert service.model_source.kind == SourceKind.SHIPPED
        assert any("Skipping fine-tuned state" in m and "other data" in m for m in messages), messages
    finally:
        service.close()


@pytest.mark.parametrize("problem", ["missing", "damaged", "other-data"])
def test_an_explicit_checkpoint_wins_and_must_be_usable(
    trained_model, small_data, state_dir, tmp_path, quick_startup_training, problem
):
    """`--checkpoint` is what the user asked for: it wins over the fine-tuned state, and a
    missing, damaged or foreign one is an error saying why, never a silent fallback."""
    ours = load_checkpoint(trained_model.write(tmp_path / "ours.npz"))
    save_checkpoint(replace(ours, trained_seq=7, applied_seq=7), state_checkpoint(state_dir))
    explicit = save_checkpoint(ours, tmp_path / "explicit.npz")
    service = trained_model.open_service(small_data, state_dir, checkpoint=explicit)
    try:
        assert service.model_source == ModelSource(SourceKind.CHECKPOINT, explicit)
        assert service.model.applied_seq == 0  # not the state's 7
    finally:
        service.close()
    if problem == "missing":
        explicit.unlink()
        why = f"checkpoint {explicit} does not exist"
    elif problem == "damaged":
        explicit.write_bytes(damaged_copy(explicit.read_bytes(), "truncated"))
        why = f"checkpoint {explicit} is corrupt or truncated"
    else:
        save_checkpoint(replace(ours, fingerprint="0" * 64, dataset="ml-100k"), explicit)
        why = f"checkpoint {explicit} was trained on other data ('ml-100k', not this {DATASET_NAME})"
    with pytest.raises(CheckpointError) as error:
        trained_model.open_service(small_data, state_dir, checkpoint=explicit)
    assert str(error.value).startswith(why)
    assert quick_startup_training == []


def test_a_model_trained_at_start_up_that_cannot_be_saved_still_serves(
    small_data, state_dir, tmp_path, quick_startup_training
):
    state_checkpoint(state_dir).mkdir(parents=True)  # a folder where the checkpoint goes
    messages = []
    settings = Settings.resolve(data=small_data, state_dir=state_dir)
    service = RecommenderService.open(replace(settings, weights_dir=tmp_path / "no-weights"), on_status=messages.append)
    try:
        assert service.model_source.kind == SourceKind.TRAINED and quick_startup_training == [DATASET_NAME]
        assert any(
            m.startswith("cannot save the checkpoint") and m.endswith("trained again at the next start")
            for m in messages
        ), messages
        assert len(service.recommend(1, k=5)) == 5
    finally:
        service.close()


def sized_checkpoint(n_users: int, n_items: int, dim: int) -> Checkpoint:
    """`sample_checkpoint`'s metadata with float32 tables of this size."""
    rng = np.random.default_rng(0)
    ego, final = (rng.standard_normal((n_users + n_items, dim), dtype=np.float32) for _ in range(2))
    return replace(
        sample_checkpoint(dim=dim),
        ego=ego,
        final=final,
        user_ids=np.arange(1, n_users + 1),
        item_ids=np.arange(1, n_items + 1),
    )


@pytest.mark.parametrize("where", [0, -1])
def test_a_nan_anywhere_in_a_mapped_table_is_damage(tmp_path, monkeypatch, where):
    """The finite check runs on the chunks the CRC reads: the first and the last chunk."""
    monkeypatch.setattr(saved_arrays, "READ_CHUNK", 64)
    ck = sized_checkpoint(30, 40, 8)
    ck.final.flat[where] = np.inf
    path = save_checkpoint(ck, tmp_path / "model.npz")
    with pytest.raises(CheckpointError, match="its embeddings hold NaN or infinite values"):
        load_checkpoint(path)


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads the process's RssFile (Linux)")
def test_loading_checks_a_checkpoint_without_keeping_its_pages_in_memory(tmp_path):
    """The CRC and finite checks read the file a chunk at a time: the mapped tables' pages
    join the process's memory only when used (at ml-32m they were 440 MB of its RSS at once)."""

    def rss_file_kb() -> int:
        return int(Path("/proc/self/status").read_text().split("RssFile:")[1].split()[0])

    ck = sized_checkpoint(40_000, 10_000, 128)  # two 25 MB tables
    path = save_checkpoint(ck, tmp_path / "model.npz")
    before = rss_file_kb()
    loaded = load_checkpoint(path)
    grown = rss_file_kb() - before
    assert grown * 1024 < 0.1 * path.stat().st_size
    np.testing.assert_array_equal(loaded.final, ck.final)  # and the rows read are the saved ones


def test_saved_tables_are_aligned_and_served_without_a_copy(tmp_path):
    """Every array's data starts at a multiple of 64 bytes in the file, so its mapped rows
    are aligned: the live model serves the movie rows in place (a misaligned file's got an
    aligned 67 MB copy at ml-32m, which numpy needs to multiply them with BLAS)."""
    from tui_recommender.app.live_model import LiveModel
    from tui_recommender.engine.id_map import IdMap

    ratings = pd.DataFrame({"userId": [1], "movieId": [1], "rating": [4.0], "timestamp": [0]})
    for n_users in (3, 5, 8):  # names and sizes move the offsets
        ck = sized_checkpoint(n_users, 11, 6)
        path = save_checkpoint(ck, tmp_path / f"model-{n_users}.npz")
        loaded = load_checkpoint(path)
        assert all(array.ctypes.data % saved_arrays.ALIGN == 0 for array in (loaded.ego, loaded.final, loaded.user_ids))
        model = LiveModel(loaded, ratings, IdMap(loaded.item_ids), lambda seq: ratings.iloc[:0], background=False)
        assert np.shares_memory(model.snapshot.item_emb, loaded.final)
