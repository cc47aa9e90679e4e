"""How an epoch of the listwise loss is built for data of a given size, so that its cost
grows gently: each step propagates the whole graph once and scores a batch of users
against some movies, so an epoch costs `steps` propagations plus `users x scored movies x
dim`. Both are capped by the recipe (`TrainConfig.epoch_steps`, `.epoch_scores`):

- users per step: `user_batch`, or more when an epoch would otherwise take more than
  `epoch_steps` steps; Adam's step size then grows with the square root of the batch
  (lr is the step size at `user_batch` users);
- movies per step: every movie while `users x movies <= epoch_scores`, else
  `ceil(epoch_scores / users)` movies drawn by popularity (`sampling.PopularItems`), the
  softmax's normaliser estimated from them (`model.sampled_listwise_loss`).

Data small enough for neither cap (ml-latest-small: 610 users x 9,742 movies) trains as
before: batches of `user_batch`, every movie, the step size `lr`."""

from __future__ import annotations

import math
from dataclasses import dataclass

from tui_recommender.engine.train_config import TrainConfig


@dataclass(frozen=True)
class EpochPlan:
    """One epoch's shape: `user_batch` users per step, `scored` movies per step (None:
    every movie), and Adam's step size `lr`."""

    user_batch: int
    scored: int | None
    lr: float

    @classmethod
    def of(cls, config: TrainConfig, n_users: int, n_items: int) -> EpochPlan:
        """The plan for `n_users` users with a positive and `n_items` movies; `config` with
        its sized defaults set (`TrainConfig.sized`)."""
        batch = max(config.user_batch, math.ceil(n_users / config.epoch_steps))
        lr = config.lr * math.sqrt(batch / config.user_batch)
        scored = None if n_users * n_items <= config.epoch_scores else math.ceil(config.epoch_scores / n_users)
        return cls(batch, scored, lr)

    def steps(self, n_users: int) -> int:
        """Steps of an epoch over `n_users` users."""
        return math.ceil(n_users / self.user_batch)
