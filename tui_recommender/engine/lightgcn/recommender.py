"""LightGCN as a `recommender.Recommender`: the training (`training.train_on_pairs`, early
stopping then a refit), the checkpoint and the bounded fine-tune behind the one interface,
scored as the app scores (`ranking.scores` with the recipe's scoring)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
import torch

from tui_recommender.engine.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from tui_recommender.engine.device import resolve_device
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.id_map import IdMap
from tui_recommender.engine.lightgcn.fine_tuning import FineTuneConfig, fine_tune
from tui_recommender.engine.lightgcn.model import LightGCN
from tui_recommender.engine.lightgcn.new_users import start_new_users
from tui_recommender.engine.lightgcn.training import TrainResult, train_on_pairs
from tui_recommender.engine.ranking import item_norms, norm_exponents, scores
from tui_recommender.engine.recommender import Recommender
from tui_recommender.engine.train_config import TrainConfig


class LightGCNRecommender(Recommender):
    """LightGCN trained with `config` (on the device it names; the rows `scores` reads are
    numpy). A user is scored by their propagated row or, when the model has not learnt
    them (no row, or a zero one), by the mean of their positives' rows;
    `partial_fit_users` starts new users there and fine-tunes the users' rows."""

    name = "LightGCN"
    updates_users = True

    def __init__(self, config: TrainConfig | None = None) -> None:
        self.config = config or TrainConfig()
        self.result: TrainResult | None = None  # of the last `fit`
        self.model: LightGCN | None = None
        self.user_emb = np.zeros((0, self.config.dim), dtype=np.float32)  # propagated rows
        self.item_emb = np.zeros((0, self.config.dim), dtype=np.float32)
        self.trained_users = 0  # users the last full training saw (later rows were folded in)
        self._rng = np.random.default_rng(self.config.seed)

    @property
    def n_items(self) -> int:
        return len(self.item_emb)

    def fit(self, interactions: InteractionGraph, on_epoch: Callable | None = None) -> None:
        pairs = pd.DataFrame({"userId": interactions.users, "movieId": interactions.items})
        users, items = IdMap(np.arange(interactions.n_users)), IdMap(np.arange(interactions.n_items))
        self.result = train_on_pairs(pairs, users, items, self.config, on_epoch=on_epoch)
        self.config = self.result.config  # with its sized defaults as applied: scores and updates follow them
        self.model = self.result.model
        self.trained_users = interactions.n_users
        self._publish(interactions)

    def scores(self, users: np.ndarray, interactions: InteractionGraph) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        rows, items = interactions.edges_of(users)
        counts = np.bincount(rows, minlength=len(users))
        vectors = np.zeros((len(users), self.item_emb.shape[1]), dtype=np.float32)
        known = users < len(self.user_emb)
        vectors[known] = self.user_emb[users[known]]
        unlearnt = ~vectors.any(axis=1)
        if unlearnt.any():
            sums = np.zeros_like(vectors)
            np.add.at(sums, rows, self.item_emb[items])
            vectors[unlearnt] = sums[unlearnt] / np.maximum(counts[unlearnt], 1)[:, None]
        exponents = norm_exponents(counts, self.config.scoring)
        return scores(self.item_emb, item_norms(self.item_emb), vectors, exponents)

    def partial_fit_users(self, users: np.ndarray, interactions: InteractionGraph) -> None:
        """The app's update: new users (rows past `trained_users`) start at the mean of their
        positives' rows (`start_new_users`), then the bounded fine-tune of the checkpoint's
        recipe (`FineTuneConfig.for_model`) moves `users` towards their positives."""
        model = self._trainable()
        if interactions.n_users > model.n_users:
            model.grow(interactions.n_users, model.n_items)
        users = np.unique(np.asarray(users, dtype=np.int64))
        adj = interactions.normalized_adjacency(model.device)
        start_new_users(model, interactions, adj, users, self.trained_users, self.item_emb)
        config = FineTuneConfig.for_model(self.config)
        fine_tune(model, adj, interactions, users, config, self._rng, anchored=users[users >= self.trained_users])
        self._publish(interactions, adj)

    def save(self, path: Path) -> Path:
        model = self._trainable()
        checkpoint = Checkpoint(
            ego=model.embedding.weight.detach().cpu().numpy(),
            final=np.concatenate([self.user_emb, self.item_emb]),
            user_ids=np.arange(1, len(self.user_emb) + 1, dtype=np.int64),  # row + 1: checkpoint ids start at 1
            item_ids=np.arange(1, len(self.item_emb) + 1, dtype=np.int64),
            config=self.config,
            dataset="",  # rows, not a dataset's ids: `Recommender` works in rows
            fingerprint="",
            metrics=self.result.summary() if self.result is not None else {},
            trained_users=self.trained_users,
        )
        return save_checkpoint(checkpoint, path)

    @classmethod
    def load(cls, path: Path) -> Self:
        checkpoint = load_checkpoint(path)
        out = cls(checkpoint.config)
        out.model = LightGCN(
            checkpoint.n_users,
            checkpoint.n_items,
            checkpoint.ego.shape[1],
            out.config.n_layers,
            layer_weights=out.config.layer_weights,
            device=resolve_device(out.config.device),
        )
        out.model.embedding.weight.data.copy_(torch.as_tensor(checkpoint.ego, device=out.model.device))
        out.user_emb, out.item_emb = checkpoint.final[: checkpoint.n_users], checkpoint.final[checkpoint.n_users :]
        out.trained_users = checkpoint.n_users if checkpoint.trained_users is None else checkpoint.trained_users
        return out

    def describe(self) -> dict:
        return {"model": self.name, "hyperparameters": self.config.hyperparameters(), "device": str(self.device)}

    @property
    def device(self) -> torch.device:
        """Where the model computes: its table's device, else the one `config` names."""
        return self.model.device if self.model is not None else resolve_device(self.config.device)

    def _trainable(self) -> LightGCN:
        if self.model is None:
            raise RuntimeError("fit or load the model first")
        return self.model

    def _publish(self, interactions: InteractionGraph, adj: torch.Tensor | None = None) -> None:
        """Propagate the layer-0 table over `interactions`: the rows `scores` reads."""
        model = self._trainable()
        with torch.no_grad():
            final = model.propagate(adj if adj is not None else interactions.normalized_adjacency(model.device))
        final = final.cpu().numpy()
        self.user_emb, self.item_emb = final[: interactions.n_users], final[interactions.n_users :]
