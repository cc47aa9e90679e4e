"""Early stopping's part of a training: validation Recall@20 of the current weights, and
the record of the best check so far (its weights, how many checks have passed since)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.lightgcn.model import LightGCN
from tui_recommender.engine.train_config import TrainConfig


@dataclass
class Record:
    """Early stopping's record: the best validation recall, its weights, checks since."""

    best_recall: float = -1.0
    best_weights: torch.Tensor | None = None
    checks_without_gain: int = 0

    def update(self, recall: float, model: LightGCN) -> bool:
        """Count a check that found validation Recall@20 `recall`; a gain keeps `model`'s
        weights. Returns whether it gained."""
        if recall > self.best_recall:
            self.best_recall, self.checks_without_gain = recall, 0
            self.best_weights = model.embedding.weight.detach().clone()
            return True
        self.checks_without_gain += 1
        return False


def validation_recall(
    model: LightGCN,
    adj: torch.Tensor,
    graph: InteractionGraph,
    validation: tuple[np.ndarray, np.ndarray],
    config: TrainConfig,
) -> float:
    """Validation Recall@20, ranked on the host by the app's own (numpy) ranking."""
    from tui_recommender.engine.metrics import recall_at_k
    from tui_recommender.engine.ranking import top_k_unseen

    with torch.no_grad():
        final = model.propagate(adj).cpu().numpy()
    top = top_k_unseen(final[: graph.n_users], final[graph.n_users :], graph.users, graph.items, 20, config.scoring)
    return recall_at_k(torch.as_tensor(top, device="cpu"), *validation, k=20)
