"""The batch jobs the CLI runs without opening the live model (loading the dataset,
training and evaluating a model, exporting the stored ratings, downloading a dataset), and
the stored events every reader of the store filters by the dataset's movies."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO

import pandas as pd

from tui_recommender.app.datasets import cache_fallback
from tui_recommender.app.read_progress import ReadProgress
from tui_recommender.app.training_options import on_device
from tui_recommender.config.settings import Settings
from tui_recommender.core.errors import CheckpointError
from tui_recommender.core.ids import parse_id
from tui_recommender.core.rating_scale import POSITIVE_THRESHOLD
from tui_recommender.core.text import shorten_items
from tui_recommender.data.cache import open_dataset
from tui_recommender.data.movielens import MovieLensData
from tui_recommender.engine.checkpoint import check_can_save, save_checkpoint
from tui_recommender.storage.database import RatingsStore
from tui_recommender.storage.importers import Importer, ImportPlan
from tui_recommender.storage.overlay import merge_ratings

if TYPE_CHECKING:
    from tui_recommender.engine.lightgcn.training import EpochStats, TrainResult
    from tui_recommender.engine.train_config import TrainConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainReport:
    dataset: str
    checkpoint: Path  # where the trained model was written
    positives: int  # positive ratings trained on
    result: TrainResult
    primary: bool = True  # this process is the one that wrote and reports (rank 0)


def stored_events(store: RatingsStore, data: MovieLensData, after_seq: int = 0) -> pd.DataFrame:
    """The store's events after `after_seq` for movies `data` has; rows for other movies
    (another version of the dataset, another program) can be neither shown nor learnt."""
    events = store.events(after_seq=after_seq)
    # the index's own lookup table, built once: `isin` hashes all 87,585 ids at every call (1 ms)
    return events[data.movies.index.get_indexer(events["movieId"]) >= 0]


def ratings_changed(store: RatingsStore, data: MovieLensData, trained_seq: int, applied_seq: int) -> int:
    """How many (user, movie) ratings the events in (`trained_seq`, `applied_seq`] left
    different from what the full training saw (the dataset's, or the last event before):
    a rating undone, or re-rated with the value it had, counts none."""
    window = stored_events(store, data, trained_seq)
    window = window[window["seq"] <= applied_seq]
    if window.empty:
        return 0
    events = stored_events(store, data) if trained_seq else window.iloc[:0]  # those before: only after a `train`
    pair = ["userId", "movieId"]

    def last(frame: pd.DataFrame) -> pd.Series:  # not groupby().last(), which skips a removal's NaN
        return frame.drop_duplicates(pair, keep="last").set_index(pair)["rating"]

    now = last(window)
    earlier = last(events[events["seq"] <= trained_seq])
    ratings = data.ratings
    ratings = ratings[ratings["userId"].isin(now.index.unique("userId"))]  # only the users touched: ml-32m is large
    dataset = ratings[[*pair, "rating"]].astype({"userId": "int64", "movieId": "int64"})  # as the events'
    seen = now.index.isin(earlier.index)  # an event before the training wins, a removal's NaN too
    before = earlier.reindex(now.index).where(seen, last(dataset).reindex(now.index))
    # A removal, or no rating at all, is NaN on both sides: the same.
    same = (now == before) | (now.isna() & before.isna())
    return int((~same).sum())


def warn_unknown_movies(store: RatingsStore, data: MovieLensData, warn: Callable[[str], None]) -> None:
    """Tell `warn` which stored ratings `stored_events` skips, if any."""
    events = store.latest()
    unknown = sorted(set(events["movieId"].tolist()) - set(data.movies.index.tolist()))
    if unknown:
        warn(
            f"Skipping stored ratings of {len(unknown)} movies {data.name} does not have ({shorten_items(unknown)}):"
            f" they stay in {store.path} but are not used"
        )


def load_data(
    settings: Settings,
    on_warning: Callable[[str], None] | None = None,
    on_status: Callable[[str], None] | None = None,
    on_read: Callable[[int, int], None] | None = None,
    write_cache: bool = True,
) -> MovieLensData:
    """The dataset of `settings` (the default one, downloaded if there is none, when
    `settings.data` is None), from its cache where one matches (see `data.cache`; a parse
    is cached if `write_cache`). `on_read(done, total)` follows a parse in bytes; without
    it, `on_status` gets lines."""
    folder = settings.data
    if folder is None:
        from tui_recommender.data.download import default_dataset

        folder = default_dataset(settings.data_root, on_status=on_warning)
    if on_status is not None:
        on_status(f"Loading {folder.name}…")
    reader = on_read
    if reader is None and on_status is not None:
        reader = ReadProgress(f"reading {folder.name}", on_line=on_status)
    started = time.perf_counter()
    data = open_dataset(folder, cache_fallback(settings), reader, on_status, write_cache)
    logger.info(
        "dataset %s from %s: %d ratings, %d movies, loaded in %.2f s",
        data.name,
        folder.absolute(),
        len(data.ratings),
        len(data.movies),
        time.perf_counter() - started,
    )
    return data


def preview_import(
    settings: Settings,
    path: Path,
    user_id: object | None,
    on_warning: Callable[[str], None] | None = None,
    on_read: Callable[[int, int], None] | None = None,
) -> ImportPlan:
    """What `ratings import --dry-run` shows: the file read and matched against the dataset
    alone. It creates nothing: no ratings database is opened, and a parse is not cached."""
    data = load_data(settings, on_warning, on_read=on_read, write_cache=False)
    return Importer(data).read(Path(path), None if user_id is None else parse_id(user_id, "user ID"))


def is_primary_process() -> bool:
    """Whether this process reports a training: always, except the ranks other than 0 of
    a torchrun launch. Raises `ConfigError` for launcher variables that make no sense."""
    from tui_recommender.engine.distributed import Team

    return Team.from_environment().primary


def train_model(
    settings: Settings,
    config: TrainConfig | None = None,
    out: Path | None = None,
    on_epoch: Callable[[EpochStats], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_read: Callable[[int, int], None] | None = None,
    resume: bool = False,
) -> TrainReport:
    """Train a fresh model with `config` (default: the default recipe) on the dataset plus
    every stored rating and save it to `out` (default: the state dir's checkpoint, which the
    app loads first). After each epoch the training's state is kept beside `out`, as often
    as pays (`resume.StateWriter`), removed once the model is saved; `resume` goes on from
    it. Launched by torchrun, this process is one rank of the training (see
    `engine.distributed`): rank 0 alone writes and warns."""
    from tui_recommender.engine.distributed import Team
    from tui_recommender.engine.lightgcn.resume import StateWriter, state_path
    from tui_recommender.engine.lightgcn.training import train_checkpoint
    from tui_recommender.engine.train_config import TrainConfig

    team = Team.from_environment()
    on_warning = on_warning if team.primary else None
    config = config or TrainConfig()
    with team.session(config.device):
        config = on_device(config, on_warning)  # before any work: a missing GPU fails now
        data = load_data(settings, on_warning, on_read=on_read)
        target = out or settings.state_checkpoint(data.name)
        if team.primary:
            check_can_save(target)  # before the training, which a bad path would otherwise waste
        with RatingsStore(settings.ratings_db(data.name), on_warning) as store:
            if on_warning is not None:
                warn_unknown_movies(store, data, on_warning)
            ratings, seq = merge_ratings(data.ratings, stored_events(store, data)), store.last_seq()
            database_id = store.database_id
        states = state_path(target)
        state = _resume_state(team, states) if resume else None
        on_state = StateWriter(states) if team.primary else None
        logger.info("training on %s: %d ratings (stored events up to seq %d); %s", data.name, len(ratings), seq, config)
        checkpoint, result = train_checkpoint(data, ratings, config, seq, on_epoch, team, state, on_state)
        checkpoint = replace(checkpoint, ratings_database=database_id)
        logger.info(
            "training ran %d epochs in %.1f s (%.3f s per epoch, best epoch %d)",
            len(result.history),
            result.seconds,
            result.seconds_per_epoch,
            result.best_epoch,
        )
        if team.primary:
            try:
                save_checkpoint(checkpoint, target)
            except CheckpointError as error:
                raise CheckpointError(f"{error}; the model trained now is lost, nothing else changed") from None
            states.unlink(missing_ok=True)
            logger.info("wrote %s", target)
    positives = int((ratings["rating"] >= POSITIVE_THRESHOLD).sum())
    return TrainReport(data.name, target, positives, result, team.primary)


def _resume_state(team, path: Path):
    """The epoch state at `path`, read by rank 0 and sent to every rank. Raises
    `CheckpointError` (on every rank) when there is none or it cannot be read."""
    from tui_recommender.engine.lightgcn.resume import load_state

    found: tuple = (None, None)
    if team.primary:
        try:
            found = (load_state(path), None)
        except CheckpointError as error:
            found = (None, str(error))
    state, problem = team.broadcast(found)
    if problem is not None:
        raise CheckpointError(problem)
    return state


def evaluate_model(
    settings: Settings,
    config: TrainConfig | None = None,
    on_epoch: Callable[[EpochStats], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_read: Callable[[int, int], None] | None = None,
    baselines: bool = False,
) -> dict:
    """Run the evaluation protocol (docs/PROTOCOL.md) on the dataset, training with `config`
    (default: the default recipe); JSON-ready report. With `baselines`, most-popular and
    EASE beside LightGCN on the same split, one object per model under "models"
    (`evaluation.evaluate_with_baselines`)."""
    from tui_recommender.engine.evaluation import evaluate, evaluate_with_baselines
    from tui_recommender.engine.train_config import TrainConfig

    config = on_device(config or TrainConfig(), on_warning)
    data = load_data(settings, on_warning, on_read=on_read)
    logger.info("evaluating on %s: %s%s", data.name, config, " with the baselines" if baselines else "")
    started = time.perf_counter()
    if baselines:
        report = evaluate_with_baselines(data, config, on_epoch=on_epoch, on_status=on_warning)
    else:
        report = evaluate(data, config, on_epoch=on_epoch)
    logger.info("evaluation took %.1f s", time.perf_counter() - started)
    return report


def export_ratings(
    settings: Settings,
    out: TextIO,
    fmt: Literal["csv", "json"] = "csv",
    on_warning: Callable[[str], None] | None = None,
) -> int:
    """Write the stored ratings (removals left out) to `out`; returns how many."""
    from tui_recommender.storage.export_files import export_ratings as export_from

    data = load_data(settings, on_warning)
    with RatingsStore(settings.ratings_db(data.name), on_warning) as store:
        damaged = store.damaged_events()
        if damaged and on_warning is not None:
            on_warning(f"{store.path} is damaged: {damaged} stored events could not be read and are left out")
        return export_from(store, out, fmt)


def download_dataset(settings: Settings, name: str) -> Path:
    """Fetch dataset `name` into the data root (checked, parsed and cached, with progress
    bars on stderr); returns its folder."""
    from tui_recommender.data.download import download

    return download(name, settings.data_root, progress=True)
