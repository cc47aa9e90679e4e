r"""LightGCN (He et al., SIGIR 2020): https://arxiv.org/abs/2002.02126

One embedding table E^(0) holds users then items (rows `0..n_users-1`, then items). Each
layer propagates linearly over the symmetric-normalised adjacency, with no weights and no
non-linearity:

    E^(k+1) = A_hat E^(k),        E = 1/(K+1) * sum_{k=0..K} E^(k)

and a user-item score is the dot product of their rows of the propagated E (never of the
raw layer-0 table). The default training loss is listwise: a softmax over every item's
score for each user of a batch, with L2 on the whole layer-0 table,

    L = -mean_u mean_{i in pos(u)} log softmax_j(e_u.e_j)_i + reg * |E0|^2 / n_users

or, with `TrainConfig.logits = "cosine"`, over cosine / temperature: e_u.e_j / (|e_u| |e_j| tau).

and the paper's BPR (with L2 on the batch's layer-0 rows) stays available:

    L = -mean(log sigmoid(e_u.e_i - e_u.e_j)) + reg * (|e0_u|^2 + |e0_i|^2 + |e0_j|^2) / (2 B)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def _layer_sum(adj: Tensor, x: Tensor, weights: tuple[float, ...]) -> Tensor:
    """sum_k weights[k] A^k x for k = 0..len(weights)-1, with in-place accumulation."""
    total = x * weights[0]
    buffers = (torch.empty_like(x), torch.empty_like(x))
    for layer, weight in enumerate(weights[1:]):
        out = buffers[layer % 2]
        # addmm into a buffer with beta=0 skips the zero-fill + copy `adj @ x` does (~25%).
        torch.addmm(out, adj, x, beta=0, out=out)
        total.add_(out, alpha=weight)
        x = out
    return total


def mean_weights(n_layers: int) -> tuple[float, ...]:
    """The paper's alpha_k = 1 / (K + 1) for k = 0..K."""
    return (1.0 / (n_layers + 1),) * (n_layers + 1)


def cosine_rows(vecs: Tensor, temperature: float) -> Tensor:
    """Rows scaled to length 1 / sqrt(`temperature`): their dot products are cosine / temperature."""
    return F.normalize(vecs, dim=1) * temperature**-0.5


def listwise_loss(
    user_vecs: Tensor,
    item_vecs: Tensor,
    edge_rows: Tensor,
    edge_items: Tensor,
    disliked: tuple[Tensor, Tensor] | None = None,
) -> Tensor:
    """The listwise loss without L2 (see `LightGCN.full_softmax_loss`): `user_vecs` (B x
    dim) against every row of `item_vecs`, positives as (`edge_rows`, `edge_items`)."""
    logits = user_vecs @ item_vecs.T
    logp = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    n = len(user_vecs)
    counts = torch.bincount(edge_rows, minlength=n)
    per_user = logits.new_zeros(n).index_add(0, edge_rows, logp[edge_rows, edge_items])
    per_user = per_user / counts.clamp(min=1).to(logits.dtype)
    loss = -per_user[counts > 0].mean()
    if disliked is not None and len(disliked[0]):
        mean_pos = logits.new_zeros(n).index_add(0, edge_rows, logits[edge_rows, edge_items])
        margin = logits[disliked[0], disliked[1]] - (mean_pos / counts.clamp(min=1).to(logits.dtype))[disliked[0]]
        loss = loss + F.softplus(margin).mean()
    return loss


def sampled_listwise_loss(
    user_vecs: Tensor, item_vecs: Tensor, edge_rows: Tensor, edge_items: Tensor, sampled: Tensor, log_expected: Tensor
) -> Tensor:
    """The listwise loss (`listwise_loss`) with the softmax's normaliser estimated from the
    `sampled` rows of `item_vecs` (K,), drawn with replacement, `log_expected` (K,) the log
    of each one's expected count among the K draws (the logQ correction):

        log sum_j exp(s_uj)  ~=  log sum_k exp(s_uk - log_expected_k)

    so a user's loss is that minus the mean score of their positives; averaged over the
    users with a positive. Costs users x K x dim, not users x items x dim."""
    n = len(user_vecs)
    counts = torch.bincount(edge_rows, minlength=n)
    weights = (1.0 / counts.clamp(min=1).to(user_vecs.dtype)).index_select(0, edge_rows)
    # Each user's mean positive row as a sparse product: no (edges x dim) gather to keep.
    means = torch.sparse_coo_tensor(
        torch.stack([edge_rows, edge_items]), weights, (n, len(item_vecs)), check_invariants=False
    )
    mean_pos = torch.sparse.mm(means, item_vecs)
    log_norm = torch.logsumexp(user_vecs @ item_vecs.index_select(0, sampled).T - log_expected, dim=1)
    return (log_norm - (user_vecs * mean_pos).sum(1))[counts > 0].mean()


class _Propagate(torch.autograd.Function):
    """E = S E0 with S = sum_k alpha_k A_hat^k; S is symmetric, so dL/dE0 = S dL/dE.

    Hand-written for speed: a forward + backward of plain `adj @ x` autograd (torch's own
    CSR backward) is ~3x slower, and PyG's LGConv 7-11x slower; one epoch of PyG's stock
    `LightGCN` used per batch ~8x slower (benchmarks/bench_training.py).
    """

    @staticmethod
    def forward(ctx, adj: Tensor, x: Tensor, weights: tuple[float, ...]) -> Tensor:  # type: ignore[override]
        ctx.adj, ctx.weights = adj, weights
        return _layer_sum(adj, x, weights)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[None, Tensor, None]:  # type: ignore[override]
        return None, _layer_sum(ctx.adj, grad.contiguous(), ctx.weights), None


class LightGCN(nn.Module):
    """LightGCN over `n_users + n_items` nodes with `dim`-wide embeddings and `n_layers`
    propagation layers (K), its table on `device` (None: torch's default, the CPU). Every
    tensor a loss creates is created on the table's device."""

    def __init__(
        self,
        n_users: int,
        n_items: int,
        dim: int = 64,
        n_layers: int = 3,
        init_std: float = 0.1,
        layer_weights: tuple[float, ...] | None = None,
        device: torch.device | None = None,
    ) -> None:
        super().__init__()
        self.n_users = n_users
        self.n_items = n_items
        self.n_layers = n_layers
        self.layer_weights = tuple(layer_weights) if layer_weights is not None else mean_weights(n_layers)
        if len(self.layer_weights) != n_layers + 1:
            raise ValueError(f"{n_layers} layers need {n_layers + 1} layer weights, got {len(self.layer_weights)}")
        self.embedding = nn.Embedding(n_users + n_items, dim, device=device)
        nn.init.normal_(self.embedding.weight, std=init_std)

    @property
    def dim(self) -> int:
        return self.embedding.embedding_dim

    @property
    def device(self) -> torch.device:
        """Where the table lives: training and updates create their tensors here."""
        return self.embedding.weight.device

    def propagate(self, adj: Tensor, table: Tensor | None = None) -> Tensor:
        """Final embeddings E (n_nodes x dim): sum_k alpha_k E^(k), k = 0..K, from the
        layer-0 `table` (default: the model's own)."""
        return _Propagate.apply(adj, self.embedding.weight if table is None else table, self.layer_weights)

    @torch.no_grad()
    def own_share(self, adj: Tensor, nodes: Tensor) -> Tensor:
        """s_v = sum_k alpha_k (A^k)_vv for each of `nodes`: how much of a node's own
        layer-0 row its propagated row holds (propagation is linear), from one-hot probes."""
        cols = torch.arange(len(nodes), device=nodes.device)
        probes = self.embedding.weight.new_zeros(self.embedding.num_embeddings, len(nodes))
        probes[nodes, cols] = 1.0
        return self.propagate(adj, probes)[nodes, cols]

    def bpr_loss(self, final: Tensor, users: Tensor, pos: Tensor, neg: Tensor, reg: float) -> Tensor:
        """BPR loss of a batch: `users`, `pos` (B,) and `neg` (B,) or (B, n) item indices
        (0-based within items; n negatives per pair are averaged), plus `reg` * L2 of the
        layer-0 rows involved, per pair."""
        batch = len(users)
        neg = neg.reshape(batch, -1)
        # One gather for all roles, with index_select: its backward (index_add) is ~2.5x
        # faster than indexing's (index_put with accumulate), and each costs a zero-fill.
        rows = torch.cat([users, pos + self.n_users, neg.flatten() + self.n_users])
        emb = final.index_select(0, rows)
        u, i, j = emb[:batch], emb[batch : 2 * batch], emb[2 * batch :].view(batch, -1, self.dim)
        pos_score = (u * i).sum(-1, keepdim=True)
        neg_score = torch.einsum("bd,bnd->bn", u, j)
        bpr = -F.logsigmoid(pos_score - neg_score).mean()
        ego = self.embedding.weight.index_select(0, rows)
        l2 = ego[: 2 * batch].square().sum() + ego[2 * batch :].square().sum() / neg.shape[1]
        return bpr + reg * l2 / (2 * batch)

    def full_softmax_loss(
        self,
        final: Tensor,
        users: Tensor,
        edge_rows: Tensor,
        edge_items: Tensor,
        reg: float,
        disliked: tuple[Tensor, Tensor] | None = None,
        table: Tensor | None = None,
        scored: tuple[Tensor, Tensor] | None = None,
        temperature: float | None = None,
    ) -> Tensor:
        """Listwise loss of a batch of `users` (B,): per user, the mean negative
        log-softmax, over every item's dot product, of their positives, given as
        (`edge_rows` index into `users`, `edge_items`); averaged over the users, plus `reg`
        * |E0|^2 / n_users. `disliked` (rows into `users`, items): each also adds
        softplus(its score - the user's mean positive score), pushing it below the positives.
        `table`: the layer-0 table `final` came from, for the L2 (default: the model's).
        `scored` (items, log of their expected counts): the softmax's normaliser estimated
        from these drawn items instead of every item (`sampled_listwise_loss`).
        `temperature`: the logits are cosine / temperature instead (`cosine_rows`)."""
        user_vecs, item_vecs = final.index_select(0, users), final[self.n_users :]
        if temperature is not None:
            user_vecs, item_vecs = cosine_rows(user_vecs, temperature), cosine_rows(item_vecs, temperature)
        if scored is None:
            loss = listwise_loss(user_vecs, item_vecs, edge_rows, edge_items, disliked)
        else:
            loss = sampled_listwise_loss(user_vecs, item_vecs, edge_rows, edge_items, *scored)
        table = self.embedding.weight if table is None else table
        return loss + reg * table.square().sum() / self.n_users

    def softmax_loss(
        self, final: Tensor, users: Tensor, pos: Tensor, neg: Tensor, temperature: float, reg: float
    ) -> Tensor:
        """Sampled softmax over cosine similarities: for each (user, positive) pair, the
        cross-entropy of the positive against `neg` (N,) item indices shared by the batch,
        logits = cos / `temperature`; plus `reg` * L2 of the batch's layer-0 rows, per pair."""
        batch = len(users)
        rows = torch.cat([users, pos + self.n_users, neg + self.n_users])
        emb = F.normalize(final.index_select(0, rows), dim=1)
        u, i, j = emb[:batch], emb[batch : 2 * batch], emb[2 * batch :]
        pos_logit = (u * i).sum(-1, keepdim=True) / temperature
        logits = torch.cat([pos_logit, u @ j.T / temperature], dim=1)
        loss = (torch.logsumexp(logits, dim=1, keepdim=True) - pos_logit).mean()
        ego = self.embedding.weight.index_select(0, rows[: 2 * batch])
        return loss + reg * ego.square().sum() / (2 * batch)

    def grow(
        self, n_users: int, n_items: int, user_rows: Tensor | None = None, item_rows: Tensor | None = None
    ) -> None:
        """Resize the table to `n_users + n_items` rows, keeping every existing row. New rows
        are `user_rows` / `item_rows` if given, else zeros (a node with no edge)."""
        old = self.embedding.weight.data
        new = old.new_zeros(n_users + n_items, self.dim)
        new[: self.n_users] = old[: self.n_users]
        new[n_users : n_users + self.n_items] = old[self.n_users :]
        if user_rows is not None:
            new[self.n_users : n_users] = user_rows
        if item_rows is not None:
            new[n_users + self.n_items :] = item_rows
        self.embedding = nn.Embedding.from_pretrained(new, freeze=False)
        self.n_users, self.n_items = n_users, n_items
