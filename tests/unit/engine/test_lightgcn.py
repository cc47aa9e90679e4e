"""LightGCN: propagation against a dense reference and PyG's LightGCN, the hand-written
backward, the BPR loss by hand, and growing the table."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.lightgcn.model import LightGCN, _Propagate, mean_weights

N_USERS, N_ITEMS, DIM, LAYERS = 5, 7, 4, 3


def random_graph(seed: int = 0, n_users: int = N_USERS, n_items: int = N_ITEMS, n_edges: int = 16) -> InteractionGraph:
    rng = np.random.default_rng(seed)
    return InteractionGraph.from_pairs(
        n_users, n_items, rng.integers(0, n_users, n_edges), rng.integers(0, n_items, n_edges)
    )


def dense_layer_mean(adj: torch.Tensor, x: torch.Tensor, n_layers: int) -> torch.Tensor:
    """mean_{k=0..K} A^k x with a dense A (differentiable with plain autograd)."""
    a = adj.to_dense().to(x.dtype)
    layers, current = [x], x
    for _ in range(n_layers):
        current = a @ current
        layers.append(current)
    return torch.stack(layers).mean(0)


def model_on(graph: InteractionGraph, seed: int = 0, n_layers: int = LAYERS) -> LightGCN:
    torch.manual_seed(seed)
    return LightGCN(graph.n_users, graph.n_items, DIM, n_layers, init_std=0.5)


@pytest.mark.parametrize("n_layers", [0, 1, 3])
def test_propagation_equals_dense_reference(n_layers):
    graph = random_graph()
    adj = graph.normalized_adjacency()
    model = model_on(graph, n_layers=n_layers)
    with torch.no_grad():
        got = model.propagate(adj)
        expected = dense_layer_mean(adj, model.embedding.weight.double(), n_layers)
    torch.testing.assert_close(got.double(), expected, rtol=1e-5, atol=1e-6)
    if n_layers == 0:
        torch.testing.assert_close(got, model.embedding.weight.detach())


def test_layer_weights_weigh_each_layer():
    graph = random_graph()
    adj = graph.normalized_adjacency()
    weights = (0.4, 0.3, 0.2, 0.1)
    torch.manual_seed(0)
    model = LightGCN(graph.n_users, graph.n_items, DIM, LAYERS, init_std=0.5, layer_weights=weights)
    a = adj.to_dense().double()
    expected = [model.embedding.weight.detach().double()]
    for _ in range(LAYERS):
        expected.append(a @ expected[-1])
    with torch.no_grad():
        final = model.propagate(adj)
    torch.testing.assert_close(final.double(), sum(w * e for w, e in zip(weights, expected)), rtol=1e-5, atol=1e-6)
    assert mean_weights(LAYERS) == (0.25,) * 4
    with pytest.raises(ValueError):
        LightGCN(2, 3, n_layers=2, layer_weights=(1.0, 1.0))


def test_softmax_loss_by_hand():
    # 1 user, items: 0 positive, 1 and 2 shared negatives; temperature 0.5, no L2.
    model = LightGCN(1, 3, dim=2, n_layers=0)
    table = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [-1.0, 1.0]])
    model.embedding.weight.data.copy_(table)
    loss = model.softmax_loss(
        table, torch.tensor([0]), torch.tensor([0]), torch.tensor([1, 2]), temperature=0.5, reg=0.0
    )
    cos = torch.tensor([1.0, 0.0, -1.0 / 2**0.5])  # positive, then the two negatives
    logits = cos / 0.5
    torch.testing.assert_close(loss, torch.logsumexp(logits, 0) - logits[0])


def test_propagation_differs_from_layer_zero_table():
    graph = random_graph()
    model = model_on(graph)
    with torch.no_grad():
        final = model.propagate(graph.normalized_adjacency())
    assert not torch.allclose(final, model.embedding.weight)


def csr_edges(adj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(edge_index (2, E) int64, edge_weight (E,)) of a CSR matrix."""
    crow = adj.crow_indices().long()
    rows = torch.repeat_interleave(torch.arange(len(crow) - 1), crow.diff())
    return torch.stack([rows, adj.col_indices().long()]), adj.values()


def test_propagation_equals_pyg_lightgcn_with_normalised_edge_weights():
    from torch_geometric.nn.models import LightGCN as PygLightGCN

    graph = random_graph(seed=1)
    adj = graph.normalized_adjacency()
    model = model_on(graph)
    pyg = PygLightGCN(graph.n_nodes, DIM, LAYERS, normalize=False)
    with torch.no_grad():
        pyg.embedding.weight.copy_(model.embedding.weight)
        edge_index, edge_weight = csr_edges(adj)
        expected = pyg.get_embedding(edge_index, edge_weight)
        got = model.propagate(adj)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_propagation_equals_pyg_lightgcn_normalising_itself():
    from torch_geometric.nn.models import LightGCN as PygLightGCN

    graph = random_graph(seed=2)
    model = model_on(graph)
    pyg = PygLightGCN(graph.n_nodes, DIM, LAYERS)
    items = torch.from_numpy(graph.items + graph.n_users)
    users = torch.from_numpy(graph.users)
    edge_index = torch.stack([torch.cat([users, items]), torch.cat([items, users])])
    with torch.no_grad():
        pyg.embedding.weight.copy_(model.embedding.weight)
        torch.testing.assert_close(
            model.propagate(graph.normalized_adjacency()), pyg.get_embedding(edge_index), rtol=1e-5, atol=1e-6
        )


def test_custom_backward_passes_gradcheck_in_float64():
    graph = random_graph()
    adj = graph.normalized_adjacency()
    adj64 = torch.sparse_csr_tensor(
        adj.crow_indices(), adj.col_indices(), adj.values().double(), adj.shape, check_invariants=True
    )
    x = torch.randn(graph.n_nodes, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: _Propagate.apply(adj64, t, (0.1, 0.2, 0.3, 0.4)), (x,))


def test_bpr_loss_gradient_equals_dense_autograd():
    graph = random_graph(seed=3)
    adj = graph.normalized_adjacency()
    model = model_on(graph)
    users, pos, neg = (
        torch.tensor([0, 1, 4, 1]),
        torch.tensor([2, 0, 6, 5]),
        torch.tensor([[1, 3], [4, 4], [0, 2], [6, 1]]),
    )
    reg = 0.1
    model.bpr_loss(model.propagate(adj), users, pos, neg, reg).backward()

    ego = model.embedding.weight.detach().double().clone().requires_grad_(True)
    final = dense_layer_mean(adj, ego, LAYERS)
    u, i, j = final[users], final[pos + N_USERS], final[neg + N_USERS]
    margin = (u * i).sum(-1, keepdim=True) - torch.einsum("bd,bnd->bn", u, j)
    l2 = (
        ego[users].square().sum() + ego[pos + N_USERS].square().sum() + ego[neg + N_USERS].square().sum() / neg.shape[1]
    )
    loss = -F.logsigmoid(margin).mean() + reg * l2 / (2 * len(users))
    loss.backward()
    torch.testing.assert_close(model.embedding.weight.grad.double(), ego.grad, rtol=1e-4, atol=1e-6)


def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x))


def tiny_loss_setup():
    """2 users, 3 items, dim 2, with hand-picked layer-0 and (different) final tables."""
    model = LightGCN(2, 3, dim=2, n_layers=1)
    ego = torch.tensor([[1.0, 0.0], [0.0, 2.0], [0.5, 0.5], [1.0, -1.0], [0.0, 1.0]])
    with torch.no_grad():
        model.embedding.weight.copy_(ego)
    final = torch.tensor([[1.0, 2.0], [-1.0, 0.5], [0.3, 0.1], [2.0, 0.0], [0.0, -1.0]])
    return model, ego.tolist(), final.tolist(), final


def dot(a, b) -> float:
    return sum(x * y for x, y in zip(a, b))


def sq(a) -> float:
    return dot(a, a)


def test_bpr_loss_by_hand_with_one_negative():
    model, ego, fin, final = tiny_loss_setup()
    users, pos, neg = [0, 1], [0, 2], [1, 0]
    reg = 0.5
    loss = model.bpr_loss(final, torch.tensor(users), torch.tensor(pos), torch.tensor(neg), reg).item()
    item = lambda table, i: table[2 + i]  # noqa: E731 - rows of items follow the 2 users
    bpr = (
        -sum(_log_sigmoid(dot(fin[u], item(fin, i)) - dot(fin[u], item(fin, j))) for u, i, j in zip(users, pos, neg))
        / 2
    )
    l2 = sum(sq(ego[u]) + sq(item(ego, i)) + sq(item(ego, j)) for u, i, j in zip(users, pos, neg))
    assert loss == pytest.approx(bpr + reg * l2 / (2 * 2), rel=1e-6)
    # Scores come from `final`, not the layer-0 table: with ego as `final` the loss differs.
    assert model.bpr_loss(
        torch.tensor(ego), torch.tensor(users), torch.tensor(pos), torch.tensor(neg), reg
    ).item() != pytest.approx(loss)


def test_bpr_loss_by_hand_with_several_negatives():
    model, ego, fin, final = tiny_loss_setup()
    users, pos, negs = [0, 1, 1], [0, 2, 1], [[1, 2], [0, 1], [2, 0]]
    reg = 0.2
    loss = model.bpr_loss(final, torch.tensor(users), torch.tensor(pos), torch.tensor(negs), reg).item()
    item = lambda table, i: table[2 + i]  # noqa: E731
    terms = [
        _log_sigmoid(dot(fin[u], item(fin, i)) - dot(fin[u], item(fin, j)))
        for u, i, js in zip(users, pos, negs)
        for j in js
    ]
    bpr = -sum(terms) / len(terms)
    l2 = sum(
        sq(ego[u]) + sq(item(ego, i)) + sum(sq(item(ego, j)) for j in js) / 2 for u, i, js in zip(users, pos, negs)
    )
    assert loss == pytest.approx(bpr + reg * l2 / (2 * 3), rel=1e-6)


def test_bpr_loss_without_reg_is_log2_for_equal_scores():
    model = LightGCN(1, 2, dim=3)
    final = torch.zeros(3, 3)
    loss = model.bpr_loss(final, torch.tensor([0]), torch.tensor([0]), torch.tensor([1]), reg=0.0)
    assert loss.item() == pytest.approx(math.log(2))


def test_grow_keeps_every_row_and_places_new_ones():
    model = LightGCN(2, 3, dim=4, n_layers=2)
    old = model.embedding.weight.detach().clone()
    new_user = torch.full((1, 4), 7.0)
    model.grow(3, 5, user_rows=new_user)
    weight = model.embedding.weight.detach()
    assert weight.shape == (8, 4) and (model.n_users, model.n_items) == (3, 5)
    torch.testing.assert_close(weight[:2], old[:2])  # old users keep their rows
    torch.testing.assert_close(weight[3:6], old[2:])  # old items shift behind the new user
    torch.testing.assert_close(weight[2:3], new_user)
    assert not weight[6:].any()  # new items without rows start at zero
    assert model.embedding.weight.requires_grad


def test_grown_model_propagates_old_nodes_as_before_when_new_nodes_have_no_edges():
    graph = random_graph()
    model = model_on(graph)
    with torch.no_grad():
        before = model.propagate(graph.normalized_adjacency())
    model.grow(graph.n_users + 2, graph.n_items + 1)
    bigger = InteractionGraph(graph.n_users + 2, graph.n_items + 1, graph.users, graph.items)
    with torch.no_grad():
        after = model.propagate(bigger.normalized_adjacency())
    users, items = after[: model.n_users], after[model.n_users :]
    torch.testing.assert_close(users[: graph.n_users], before[: graph.n_users])
    torch.testing.assert_close(items[: graph.n_items], before[graph.n_users :])


def test_full_softmax_loss_by_hand():
    """Per user: the mean -log softmax over every item's dot product of their positives,
    averaged over users; + reg * |E0|^2 / n_users; a disliked item adds softplus(its
    score - the user's mean positive score)."""
    torch.manual_seed(0)
    model = LightGCN(3, 5, dim=4, n_layers=1)
    final = model.propagate(random_graph(0, 3, 5, 8).normalized_adjacency())
    users = torch.tensor([2, 0])
    rows, items = torch.tensor([0, 0, 1]), torch.tensor([1, 4, 3])  # user 2: items 1, 4; user 0: item 3
    logits = final[:3] @ final[3:].T
    logp = torch.log_softmax(logits, dim=1)
    expected = -((logp[2, 1] + logp[2, 4]) / 2 + logp[0, 3]) / 2
    reg = 0.01
    l2 = model.embedding.weight.square().sum() / 3
    got = model.full_softmax_loss(final, users, rows, items, reg)
    torch.testing.assert_close(got, expected + reg * l2)
    disliked = (torch.tensor([0]), torch.tensor([2]))  # user 2 said no to item 2
    with_no = model.full_softmax_loss(final, users, rows, items, reg, disliked)
    margin = logits[2, 2] - (logits[2, 1] + logits[2, 4]) / 2
    torch.testing.assert_close(with_no, expected + reg * l2 + F.softplus(margin))
