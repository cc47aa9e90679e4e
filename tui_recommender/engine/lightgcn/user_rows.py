r"""One user's served row after their ratings change, from the published item rows alone:
no graph rebuild, no propagation, no torch. What the live model does on a rating's path
(`app.live_model`); the rest of the graph catches up later (`propagation`).

The listwise loss of a user row v against the item rows X (held fixed) is

    L_P(v) = logsumexp(X v) - mean_{i in P} x_i . v,    grad L_P(v) = E_softmax(Xv)[x] - mean_P x,

so a change of the positives P0 -> P changes the gradient by exactly -(mean_P x - mean_P0 x),
whatever v is: learning a rating means moving the row along that change of the mean.

- `shifted_row`, a user the full training learnt: the row moves by `GAIN` times that
  change, scaled as the row relates to its mean (c = v . mean_P0 x / |mean_P0 x|^2: a
  LightGCN user row is a degree-weighted sum of their movies' rows). Whatever the training gave the row stays,
  so a rating moves it by about 1/|P| of the way to the new movie: a seasoned list moves
  a little, a short one a lot, and an unchanged P not at all. (A Newton step on the
  change, H^-1 times it with H the softmax's covariance, moved a confident user's row
  across the catalogue: their softmax is peaked, so H is small.)
- `folded_in_row`, a user the training never saw: the mean of their positives' rows, then
  the bounded listwise fine-tune the app always ran for them (`FineTuneConfig`'s steps, lr
  and anchor: Adam on the layer-0 row e with v = rest + s e, so v moves s times the step;
  an L2 pull of weight `anchor` on e towards that start), written in v. Its L2 on the
  whole table (reg / n_users, ~1e-5 per step here) is left out.

A model trained on cosine logits (`TrainConfig.logits`; the caller passes the movies' `norms`)
takes the movies' unit rows as X, and the fold-in's logits are X v / (|v| tau).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_recommender.engine.train_config import DEFAULT_REG, Loss, TrainConfig

# The fold-in's steps score this many movies (those of the highest start scores) exactly;
# the others' share of the softmax follows their mean row, to first order in the step. A
# catalogue of up to twice this is scored whole (ml-latest-small's 9,742 movies are).
POOL = 8192
# How far a learnt user's row follows the change of their positives' mean, times the row's
# own scale: 1 follows the mean alone, which turned a Drama fan who rated six Animation films
# to no Animation at all (tests/unit/app/test_taste.py); at 3 users with >= 100 ratings keep
# 9.1 of their top 10 after one new rating (bench_steadiness).
GAIN = 3.0


@dataclass(frozen=True)
class FineTuneConfig:
    """A bounded update after new ratings: `steps` Adam steps at step size `lr` of the loss
    the model was trained with (`for_model`).

    - "bpr" / "softmax": the whole table moves; each step's loss is that loss on every
      positive of the focus users plus, weighted equally, the same loss on `replay` random
      old edges, which keeps the rest of the model from drifting (`negatives` per pair for
      bpr; `softmax_negatives` items shared by the step for softmax, logits cosine /
      `temperature`); L2 weight `reg` per pair.
    - "full_softmax": only the focus users' layer-0 rows move, towards the listwise loss on
      their positives, L2 `reg` on those rows, and a new user's row pulled with weight
      `anchor` towards its start (`_fine_tune_listwise`); no replay."""

    steps: int = 10
    lr: float = 0.002
    replay: int = 1024
    negatives: int = 4
    reg: float = 3e-4
    loss: Loss = "bpr"
    temperature: float = 0.1
    # full_softmax: the logits cosine / `temperature` (a model trained so), not dot products
    cosine: bool = False
    softmax_negatives: int = 1024
    # on 5 ratings the free steps overfit a new user (bench_learning)
    anchor: float = 0.05

    @classmethod
    def for_model(cls, config: TrainConfig) -> FineTuneConfig:
        """The update that matches a model's training recipe (its loss, L2, logits and
        temperature; `config` as trained, its sized defaults set: `TrainConfig.sized`)."""
        if config.loss == "full_softmax":
            cosine = config.logits == "cosine"
            reg = config.reg if config.reg is not None else DEFAULT_REG
            return cls(loss="full_softmax", lr=0.05, reg=reg, temperature=config.temperature, cosine=cosine)
        if config.loss == "softmax":
            return cls(
                loss="softmax", temperature=config.temperature, reg=DEFAULT_REG if config.reg is None else config.reg
            )
        return cls()


def own_share(user_degree: int, item_degrees: np.ndarray, layer_weights: tuple[float, ...]) -> float:
    """s_u = sum_k alpha_k (A_hat^k)_uu: how much of a user's layer-0 row their propagated row
    holds, for a user with `user_degree` positives of degrees `item_degrees` (counting
    this user). The bipartite graph has no odd closed walk, so it is alpha_0 + alpha_2
    sum_i 1 / (d_u d_i) for K <= 3 (deeper even terms, K >= 4, are left out)."""
    share = layer_weights[0]
    if len(layer_weights) > 2 and user_degree > 0:
        share += layer_weights[2] * float(np.sum(1.0 / (user_degree * np.maximum(item_degrees, 1.0))))
    return share


def _softmax(logits: np.ndarray) -> np.ndarray:
    p = np.exp(logits - logits.max())
    return p / p.sum()


def shifted_row(
    items: np.ndarray,
    row: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    disliked: np.ndarray | None = None,
    norms: np.ndarray | None = None,
) -> np.ndarray:
    """The row (float32) of a learnt user whose positives (item rows) went from `before`
    to `after` (both non-empty): `row` + GAIN c (mean_after x - mean_before x), c = the
    least-squares scale of `row` on mean_before x (see the module docstring). `disliked` item rows add
    their push below the mean positive (as `folded_in_row`), scaled alike. `norms`: each
    movie's |row|, given for a model trained on cosine logits (its X is the unit rows)."""

    def x(rows: np.ndarray) -> np.ndarray:
        return items[rows] if norms is None else items[rows] / norms[rows, None]

    start = x(before).mean(axis=0, dtype=np.float64)
    target = x(after).mean(axis=0, dtype=np.float64)
    delta = target - start
    if disliked is not None and len(disliked):
        logits = (x(np.concatenate([after, disliked])) @ row).astype(np.float64)
        where = np.arange(len(after))
        delta -= _disliked_gradient(
            np.concatenate([x(after), x(disliked)]),
            logits,
            where,
            where[-1] + 1 + np.arange(len(disliked)),
            target,
        )
    scale = max(float(row @ start) / max(float(start @ start), 1e-12), 0.0)
    return (row + GAIN * scale * delta).astype(np.float32)


def _disliked_gradient(
    items: np.ndarray, logits: np.ndarray, positives: np.ndarray, disliked: np.ndarray, mean_pos: np.ndarray
) -> np.ndarray:
    """Gradient in v of mean_d softplus(logit_d - mean positive logit)."""
    margin = logits[disliked] - logits[positives].mean()
    return (1.0 / (1.0 + np.exp(-margin))) @ (items[disliked] - mean_pos) / len(disliked)


def folded_in_row(
    items: np.ndarray,
    positives: np.ndarray,
    share: float,
    config: FineTuneConfig,
    disliked: np.ndarray | None = None,
    norms: np.ndarray | None = None,
) -> np.ndarray:
    """The row (float32) of a user the training never saw, with `positives` (item rows,
    non-empty) and `disliked` item rows: see the module docstring. `share` is their
    `own_share`. Each step scores the `POOL` movies of the highest start scores (and the
    user's) exactly and the rest by their mean row. `norms`: as for `shifted_row` (with
    `config.cosine`)."""
    inverse = None if norms is None else (1.0 / norms).astype(np.float32)
    start = (items[positives] if inverse is None else items[positives] * inverse[positives, None]).mean(
        axis=0, dtype=np.float64
    )

    def scale(v: np.ndarray) -> float:  # logits = scale(v) X v: 1, or 1 / (|v| tau) for cosine logits
        return 1.0 / (config.temperature * max(float(np.linalg.norm(v)), 1e-12)) if config.cosine else 1.0

    scale0 = scale(start)
    logits = (items @ (scale0 * start).astype(np.float32)).astype(np.float64)
    if inverse is not None:
        logits *= inverse
    pool, tail_mass, tail_mean, logits_max = np.arange(len(items)), 0.0, np.zeros_like(start), logits.max()
    if len(items) > 2 * POOL:
        pool = np.union1d(np.argpartition(logits, len(logits) - POOL)[-POOL:], positives)
        weights = np.exp(logits - logits_max).astype(np.float32)
        weights[pool] = 0.0  # one pass over the rows, no copy of the tail's
        tail_mass = float(weights.sum(dtype=np.float64))
        tail_mean = ((weights if inverse is None else weights * inverse) @ items).astype(np.float64)
        tail_mean /= max(tail_mass, 1e-300)
    x = items if len(pool) == len(items) else items[pool]
    if inverse is not None:
        x = x * inverse[pool, None]
    where = np.searchsorted(pool, positives)
    hated = None if disliked is None or len(disliked) == 0 else np.searchsorted(pool, np.intersect1d(disliked, pool))
    v = start.copy()
    m, s2 = np.zeros_like(v), np.zeros_like(v)
    beta1, beta2, eps = 0.9, 0.999, 1e-8  # torch.optim.Adam's defaults, as the fine-tune had
    pull = 2.0 * config.anchor / share**2
    for step in range(1, config.steps + 1):
        c = scale(v)
        logits = (x @ (c * v).astype(np.float32)).astype(np.float64)
        # the gradient in u = c v, the vector the logits are X u of
        if tail_mass > 0.0:  # the tail's weight moves with its mean row: exp(du . tail_mean)
            tail = tail_mass * np.exp((c * v - scale0 * start) @ tail_mean + logits_max - logits.max())
            p = np.exp(logits - logits.max())
            grad = ((p.astype(np.float32) @ x) + tail * tail_mean) / (p.sum() + tail) - start
        else:  # float32 products: a float64 one would copy the movie rows at every step
            grad = (_softmax(logits).astype(np.float32) @ x).astype(np.float64) - start
        if hated is not None and len(hated):
            grad += _disliked_gradient(x, logits, where, hated, start)
        if config.cosine:  # du/dv = (I - unit v unit v^T) / (|v| tau)
            unit = v / max(float(np.linalg.norm(v)), 1e-12)
            grad = c * (grad - unit * (unit @ grad))
        grad += pull * (v - start)
        m = beta1 * m + (1 - beta1) * grad
        s2 = beta2 * s2 + (1 - beta2) * grad**2
        m_hat, s_hat = m / (1 - beta1**step), s2 / (1 - beta2**step)
        v -= share * config.lr * m_hat / (np.sqrt(s_hat) + eps)
    return v.astype(np.float32)
