"""One small LightGCN checkpoint trained on the generated `small_data` dataset, once per
session (the `trained_model` fixture), shared by the service, checkpoint, CLI and TUI tests
so that each of them opens a service in milliseconds instead of training at start-up."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.synthetic import write_movielens

DATASET_NAME = "ml-test"  # the folder name `small_data` uses, hence the dataset's name


def small_train_config():
    """Hyperparameters that fit `small_data` in a few seconds."""
    from tui_recommender.engine.train_config import TrainConfig

    return TrainConfig(
        dim=32,
        n_layers=3,
        lr=0.02,
        reg=1e-4,
        batch_size=1024,
        max_epochs=20,
        eval_every=5,
        patience=2,
        seed=0,
        negatives=1,
        sampling="user",
    )


def train_small_checkpoint(folder: Path) -> bytes:
    """The `.npz` bytes of a checkpoint trained on `small_data`'s dataset, written under
    `folder`. `write_movielens` is deterministic, so the fingerprint matches every
    `small_data`."""
    from tui_recommender.data.movielens import load_dataset
    from tui_recommender.engine.checkpoint import save_checkpoint
    from tui_recommender.engine.lightgcn.training import train_checkpoint

    data = load_dataset(write_movielens(folder / DATASET_NAME))
    checkpoint, _ = train_checkpoint(data, data.ratings, small_train_config())
    return save_checkpoint(checkpoint, folder / "model.npz").read_bytes()


class TrainedModel:
    """The shared checkpoint (the session fixture `trained_model`) and what tests do with it."""

    def __init__(self, checkpoint: bytes) -> None:
        self.checkpoint = checkpoint

    def write(self, path: Path) -> Path:
        """Write the shared checkpoint to `path`; returns `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.checkpoint)
        return path

    def shipped_settings(self, data: Path, state_dir: Path):
        """`Settings` for `data` and `state_dir` whose shipped weights (written next to the
        state dir) are the shared checkpoint: the automatic start, no `--checkpoint`."""
        from tui_recommender.config.settings import Settings

        weights = state_dir.parent / "weights"
        self.write(weights / f"{DATASET_NAME}.npz")
        return replace(Settings.resolve(data=data, state_dir=state_dir), weights_dir=weights)

    def open_service(self, data: Path, state_dir: Path, checkpoint: Path | None = None, on_status=None):
        """A `RecommenderService` on `data` with state in `state_dir`, starting from the
        explicit `checkpoint` if given, else as the app does (fine-tuned state, then the
        shipped weights, which are the shared checkpoint)."""
        from tui_recommender.app.service import RecommenderService
        from tui_recommender.config.settings import Settings

        if checkpoint is None:
            settings = self.shipped_settings(data, state_dir)
        else:
            settings = Settings.resolve(data=data, state_dir=state_dir, checkpoint=checkpoint)
        return RecommenderService.open(settings, on_status=on_status)


def model_positives(service, user_id: int) -> set[int]:
    """Movie ids the service's live model links to `user_id` (its graph with the changes a
    catch-up has yet to propagate): what "the rating reached the model" means to a test."""
    return set(service.catalogue.items.raw_ids[service.model.positives(user_id)].tolist())
