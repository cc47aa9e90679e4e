"""Training LightGCN: by default with the listwise loss (each user's softmax over every
movie, or over movies drawn by popularity when the data are large; batches of users sized
to the data: `lightgcn.plan`), or BPR with vectorised negative sampling over mini-batches of
positive edges (`lightgcn.epochs`); early stopping on a validation split, then a refit.

Sampling runs in numpy on the host; each step's indices go to the model's device once, and
every tensor of a step is created there (the device of `TrainConfig.device`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from tui_recommender.core.errors import ConfigError
from tui_recommender.core.rating_scale import POSITIVE_THRESHOLD
from tui_recommender.engine.checkpoint import Checkpoint
from tui_recommender.engine.device import resolve_device
from tui_recommender.engine.distributed import SOLO, Team
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.id_map import IdMap
from tui_recommender.engine.lightgcn.early_stopping import Record, validation_recall
from tui_recommender.engine.lightgcn.epochs import bpr_epoch, full_softmax_epoch
from tui_recommender.engine.lightgcn.model import LightGCN
from tui_recommender.engine.lightgcn.plan import EpochPlan
from tui_recommender.engine.lightgcn.resume import FIRST, REFIT, EpochState, graph_key
from tui_recommender.engine.lightgcn.sampling import NegativeSampler, PopularItems, sample_positives
from tui_recommender.engine.lightgcn.steps import Steps
from tui_recommender.engine.split import VALIDATION_FRACTION
from tui_recommender.engine.train_config import TrainConfig

if TYPE_CHECKING:
    from tui_recommender.data.movielens import MovieLensData


@dataclass
class EpochStats:
    epoch: int  # 1-based
    loss: float
    seconds: float
    val_recall20: float | None = None
    total: int = 0  # epochs this run does at most (early stopping may end it sooner)


@dataclass
class TrainResult:
    model: LightGCN
    config: TrainConfig
    epochs: int  # epochs the returned model was trained (with refit: `best_epoch`)
    best_epoch: int  # epoch with the best validation recall (the refit trains this many)
    seconds: float  # wall time of the whole training
    history: list[EpochStats] = field(default_factory=list)
    val_metrics: dict[str, float] = field(default_factory=dict)
    stopped: bool = False  # `should_stop` ended it early
    validation_epochs: int = 0  # epochs run while early stopping watched the validation split
    decayed_after: int = 0  # the epoch after which Adam's step size was cut (`lr_decay`); 0: never

    @property
    def seconds_per_epoch(self) -> float:
        return sum(h.seconds for h in self.history) / max(len(self.history), 1)

    def summary(self) -> dict:
        """JSON-ready figures: epochs, best epoch, wall seconds, seconds per epoch, and the
        validation metrics of the kept weights."""
        return {
            "epochs": self.epochs,
            "validation_epochs": self.validation_epochs,
            "best_epoch": self.best_epoch,
            "lr_decayed_after": self.decayed_after or None,
            "seconds": round(self.seconds, 3),
            "seconds_per_epoch": round(self.seconds_per_epoch, 4),
            "validation": self.val_metrics,
        }


def train(
    graph: InteractionGraph,
    config: TrainConfig | None = None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    on_epoch: Callable[[EpochStats], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    team: Team = SOLO,
    resume: EpochState | None = None,
    on_state: Callable[[EpochState], None] | None = None,
    decay_after: int = 0,
) -> TrainResult:
    """Train a fresh model on `graph`, on the device `config.device` names. With
    `validation` (user, item) index pairs, stop early on validation Recall@20 and keep the
    best weights, and cut the step size by `config.lr_decay` at the first check without a
    gain; else run `max_epochs`, cutting it after epoch `decay_after` (a refit repeating
    early stopping's cut; 0: never). In a `team` (torchrun), each rank takes its share
    of every step. `on_state` gets the state after each epoch; `resume`, such a state,
    goes on after its epoch. An `on_epoch` with an `on_step(epoch, done, total)` method
    also hears each step (done 0: the epoch began). Raises `ConfigError` when the team
    cannot share a step, or `resume` is of another recipe or graph."""
    started = time.perf_counter()
    config = (config or TrainConfig()).sized(graph.n_users, graph.n_items, graph.n_edges)
    full_softmax = config.loss == "full_softmax"
    n_active = len(np.unique(graph.users)) if full_softmax else graph.n_edges
    plan = EpochPlan.of(config, n_active, graph.n_items) if full_softmax else None
    team.check_split(
        min(plan.user_batch if plan else config.batch_size, n_active), "users" if full_softmax else "pairs"
    )
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    device = resolve_device(config.device)
    model = LightGCN(
        graph.n_users, graph.n_items, config.dim, config.n_layers, config.init_std, config.layer_weights, device
    )
    adj = graph.normalized_adjacency(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=plan.lr if plan else config.lr)
    sampler = NegativeSampler(graph)
    scored = (PopularItems(graph, correction=config.logq), plan.scored) if plan and plan.scored else None
    result = TrainResult(model, config, 0, 0, 0.0)
    record = Record()
    if resume is not None:
        _restore(resume, config, graph, model, optimizer, rng, result, record)
    steps = Steps(model, adj, team)
    hear_step = getattr(on_epoch, "on_step", None)
    for epoch in range(result.epochs + 1, config.max_epochs + 1):
        if validation is not None and record.checks_without_gain >= config.patience:
            break  # checked first: a resumed training may have stopped early already
        if should_stop():
            result.stopped = True
            break
        t0 = time.perf_counter()
        on_step = None if hear_step is None else partial(hear_step, epoch)
        if on_step is not None:
            on_step(0, plan.steps(n_active) if plan else -(-graph.n_edges // config.batch_size))
        if full_softmax:
            loss = full_softmax_epoch(
                model, adj, optimizer, graph, rng, plan.user_batch, config.reg, should_stop, steps, scored, on_step,
                config.cosine_temperature,
            )  # fmt: skip
        else:
            users, items = sample_positives(graph, graph.n_edges, config.sampling, rng)
            loss = bpr_epoch(
                model, adj, optimizer, users, items, sampler, rng, config.batch_size, config.reg,
                config.negatives, should_stop, config.loss, config.temperature, steps, on_step,
            )  # fmt: skip
        stats = EpochStats(epoch, loss, time.perf_counter() - t0, total=config.max_epochs)
        result.history.append(stats)
        result.epochs = epoch
        if should_stop():
            result.stopped = True
            break
        if validation is not None and (epoch % config.eval_every == 0 or epoch == config.max_epochs):
            stats.val_recall20 = validation_recall(model, adj, graph, validation, config)
            if record.update(stats.val_recall20, model):
                result.best_epoch, result.val_metrics = epoch, {"recall@20": round(record.best_recall, 6)}
            elif not result.decayed_after and config.lr_decay < 1:  # every rank checks alike: all cut
                _cut_step_size(optimizer, config.lr_decay)
                result.decayed_after = epoch
        elif validation is None and epoch == decay_after:
            _cut_step_size(optimizer, config.lr_decay)
            result.decayed_after = epoch
        if on_state is not None:
            seconds = result.seconds + time.perf_counter() - started
            on_state(_state(config, graph, model, optimizer, rng, result, record, seconds))
        if on_epoch is not None:
            on_epoch(stats)
    if validation is not None:
        result.validation_epochs = result.epochs
    if record.best_weights is not None:
        model.embedding.weight.data.copy_(record.best_weights)
    else:
        result.best_epoch = result.epochs
    result.seconds += time.perf_counter() - started
    return result


def _cut_step_size(optimizer: torch.optim.Optimizer, factor: float) -> None:
    """Multiply Adam's step size by `factor` from the next step on (its moments stay)."""
    for group in optimizer.param_groups:
        group["lr"] *= factor


def _state(config, graph, model, optimizer, rng, result: TrainResult, record: Record, seconds: float) -> EpochState:
    """The training's state after its latest epoch (`seconds` of training so far), every
    tensor copied to the CPU."""

    def host(value: object) -> object:
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().clone()
        if isinstance(value, dict):
            return {key: host(item) for key, item in value.items()}
        if isinstance(value, list):
            return [host(item) for item in value]
        return value

    return EpochState(
        epoch=result.epochs,
        weights=host(model.embedding.weight),
        optimizer=host(optimizer.state_dict()),
        numpy_rng=rng.bit_generator.state,
        torch_rng=torch.get_rng_state(),
        hyperparameters=config.hyperparameters(),
        graph_key=graph_key(graph),
        history=[asdict(h) for h in result.history],
        best_recall=record.best_recall,
        best_epoch=result.best_epoch,
        best_weights=None if record.best_weights is None else host(record.best_weights),
        checks_without_gain=record.checks_without_gain,
        val_metrics=dict(result.val_metrics),
        seconds=seconds,
        decayed_after=result.decayed_after,
    )


def _restore(state: EpochState, config, graph, model, optimizer, rng, result: TrainResult, record: Record) -> None:
    """Put the training back where `state` left it; raises `ConfigError` if `state` is of
    another recipe or graph."""
    if state.hyperparameters != config.hyperparameters():
        raise ConfigError("the epoch state to resume was saved by a training with other options: give the same ones")
    if state.graph_key != graph_key(graph):
        raise ConfigError("the epoch state to resume was saved for other data (the ratings changed since)")
    device = model.device
    model.embedding.weight.data.copy_(state.weights.to(device))
    optimizer.load_state_dict(state.optimizer)
    rng.bit_generator.state = state.numpy_rng
    torch.set_rng_state(state.torch_rng)
    result.epochs, result.best_epoch, result.val_metrics = state.epoch, state.best_epoch, dict(state.val_metrics)
    result.history = [EpochStats(**h) for h in state.history]
    result.seconds, result.decayed_after = state.seconds, state.decayed_after
    record.best_recall, record.checks_without_gain = state.best_recall, state.checks_without_gain
    record.best_weights = None if state.best_weights is None else state.best_weights.to(device)


def train_on_pairs(
    pairs: pd.DataFrame,
    users: IdMap,
    items: IdMap,
    config: TrainConfig | None = None,
    validation_fraction: float = VALIDATION_FRACTION,
    on_epoch: Callable[[EpochStats], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    team: Team = SOLO,
    resume: EpochState | None = None,
    on_state: Callable[[EpochState], None] | None = None,
    split: Callable[[pd.DataFrame, int], tuple[pd.DataFrame, pd.DataFrame]] | None = None,
) -> TrainResult:
    """Train on positive (userId, movieId) `pairs` (raw ids, rows from the maps): a random
    `validation_fraction` of each user's pairs (users with >= 5) is held out for early
    stopping, the rest is trained on; with `config.refit`, a fresh model is then trained on
    every pair for the best epoch count, so no data is left out of the final model. With
    `refit` and no more epochs than `eval_every`, one training on every pair is all there is.
    `split(pairs, seed)`, when given, returns (trained on, held out) instead of that random
    split (a benchmark's validation shaped like its test split). `team`, `resume`,
    `on_state`: as for `train`, across both stages."""
    from tui_recommender.engine.interactions import pairs_graph
    from tui_recommender.engine.split import split_per_user

    # sized once, on every pair: early stopping and the refit train the same recipe
    config = (config or TrainConfig()).sized(len(users), len(items), len(pairs))
    if config.refit and config.max_epochs <= config.eval_every:
        validation_fraction, split = 0.0, None  # one check at most: early stopping could only keep every epoch
    if split is not None:
        fit, val = split(pairs, config.seed + 1)
    elif validation_fraction > 0:
        fit, val = split_per_user(pairs, fraction=validation_fraction, seed=config.seed + 1)
    else:
        fit, val = pairs, pairs.iloc[:0]
    validation = (users.indices(val["userId"]), items.indices(val["movieId"])) if len(val) else None
    if resume is not None and resume.stage == REFIT:
        result = _earlier_result(resume.earlier or {}, config)
    else:
        stage_state = None if on_state is None else lambda state: on_state(replace(state, stage=FIRST))
        result = train(
            pairs_graph(fit, users, items), config, validation, on_epoch, should_stop, team, resume, stage_state
        )
        resume = None
    if not config.refit or validation is None or result.stopped:
        return result
    earlier = {
        "best_epoch": result.best_epoch,
        "decayed_after": result.decayed_after,
        "val_metrics": result.val_metrics,
        "validation_epochs": result.validation_epochs,
        "seconds": result.seconds,
        "history": [asdict(h) for h in result.history],
    }
    refit_state = None if on_state is None else lambda state: on_state(replace(state, stage=REFIT, earlier=earlier))
    # the cut repeated at the same epoch, when the best epoch came after it
    decay_after = result.decayed_after if result.decayed_after < result.best_epoch else 0
    full = train(
        pairs_graph(pairs, users, items), replace(config, max_epochs=result.best_epoch), None, on_epoch, should_stop,
        team, resume, refit_state, decay_after,
    )  # fmt: skip
    full.history = result.history + full.history
    full.seconds += result.seconds
    full.best_epoch, full.val_metrics = result.best_epoch, result.val_metrics
    full.validation_epochs = result.validation_epochs
    return full


def _earlier_result(earlier: dict, config: TrainConfig) -> TrainResult:
    """The figures of early stopping's stage, as a resumed refit found them saved."""
    result = TrainResult(None, config, earlier["validation_epochs"], earlier["best_epoch"], earlier["seconds"])  # type: ignore[arg-type]
    result.history = [EpochStats(**h) for h in earlier["history"]]
    result.val_metrics, result.validation_epochs = dict(earlier["val_metrics"]), earlier["validation_epochs"]
    result.decayed_after = earlier.get("decayed_after", 0)  # a state saved before the cut existed: none
    return result


def train_checkpoint(
    data: MovieLensData,
    ratings: pd.DataFrame,
    config: TrainConfig | None = None,
    trained_seq: int = 0,
    on_epoch: Callable[[EpochStats], None] | None = None,
    team: Team = SOLO,
    resume: EpochState | None = None,
    on_state: Callable[[EpochState], None] | None = None,
) -> tuple[Checkpoint, TrainResult]:
    """Train on every positive of `ratings` (early stopping on a per-user validation split)
    and pack the result, propagated over the whole graph, as a checkpoint that has learnt
    the ratings store up to seq `trained_seq`. `team`, `resume`, `on_state`: see `train`."""
    from tui_recommender.engine.interactions import Interactions

    config = config or TrainConfig()
    inter = Interactions.build(ratings, data.movies.index.to_numpy())
    pairs = ratings.loc[ratings["rating"] >= POSITIVE_THRESHOLD, ["userId", "movieId"]]
    result = train_on_pairs(
        pairs, inter.users, inter.items, config, on_epoch=on_epoch, team=team, resume=resume, on_state=on_state
    )
    with torch.no_grad():
        final = result.model.propagate(inter.graph.normalized_adjacency(result.model.device)).cpu().numpy()
    checkpoint = Checkpoint(
        ego=result.model.embedding.weight.detach().cpu().numpy(),
        final=final,
        user_ids=inter.users.raw_ids,
        item_ids=inter.items.raw_ids,
        config=result.config,
        dataset=data.name,
        fingerprint=data.fingerprint,
        metrics=result.summary(),
        trained_seq=trained_seq,
        applied_seq=trained_seq,
    )
    return checkpoint, result
