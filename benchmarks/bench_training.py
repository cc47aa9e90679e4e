"""Seconds per training epoch on the protocol's train split of ml-latest-small: ours
(`bpr_epoch` over `LightGCN.propagate`, the fused `_Propagate` op) against PyG's stock
`LightGCN` used naively (full `get_embedding(edge_index)` per batch, gcn_norm recomputed
each call). Plus a micro-benchmark of one propagation's forward + backward.

Both contenders see the same epochs: every train positive once in a seeded random order,
one negative each from our `NegativeSampler` with the same seeded generator, batch 2048,
dim 64, 3 layers, Adam lr 0.01, L2 1e-4. Epochs are interleaved (ours, PyG, ours, ...) so
load from other processes hits both alike; the speed-up is the median of the per-round
ratios. Ours is also timed with `TrainConfig`'s default recipe, the epoch `train` really
runs: with the listwise loss (`full_softmax_epoch`), every user once in the batches
`lightgcn.plan` sizes (128 users here), each scored against every movie, so every train
positive enters the loss once, as in the BPR epochs. The old app's loop
(`../shared/anchors/seed_lightgcn.py RATINGS_CSV 1`) runs in a child process before and
after the interleaved epochs, in the same run. Targets: ours >= 7x faster than PyG naive,
and >= 20x faster than the old app's epoch, both for PyG's setup and the default recipe.
"""

from __future__ import annotations

import time

import harness  # first: it sets up the environment torch must load in
import numpy as np
import torch

TARGET_VS_PYG = 7.0
TARGET_VS_OLD_APP = 20.0
BATCH = 2048
DIM = 64
LAYERS = 3
LR = 0.01
REG = 1e-4


def protocol_graph(folder):
    """The protocol's train split as an `InteractionGraph` (users and items indexed as
    `evaluate` does)."""
    from tui_recommender.data.movielens import load_dataset
    from tui_recommender.engine.evaluation import positives, split_per_user
    from tui_recommender.engine.graph import InteractionGraph
    from tui_recommender.engine.id_map import IdMap

    data = load_dataset(folder)
    train_pairs, _ = split_per_user(positives(data.ratings))
    users = IdMap(np.sort(data.ratings["userId"].unique()))
    items = IdMap(data.movies.index.to_numpy())
    return InteractionGraph.from_pairs(
        len(users), len(items), users.indices(train_pairs["userId"]), items.indices(train_pairs["movieId"])
    )


def edge_index_of(graph) -> torch.Tensor:
    """Both directions of every user-item edge, items offset by `n_users` (PyG's layout)."""
    items = graph.items + graph.n_users
    return torch.from_numpy(np.stack([np.concatenate([graph.users, items]), np.concatenate([items, graph.users])]))


class Ours:
    """Our epoch: with `config`, exactly `TrainConfig`'s default recipe (loss, negatives,
    batch, dim, layers, lr); without, the setup PyG gets (BPR, 1 negative)."""

    def __init__(self, graph, config=None) -> None:
        from tui_recommender.engine.lightgcn.model import LightGCN
        from tui_recommender.engine.lightgcn.sampling import NegativeSampler

        self.config, self.graph = config, graph
        self.name = "ours, default recipe (TrainConfig)" if config else "ours (fused _Propagate), PyG's setup"
        torch.manual_seed(0)
        dim, layers, lr = (config.dim, config.n_layers, config.lr) if config else (DIM, LAYERS, LR)
        self.model = LightGCN(
            graph.n_users, graph.n_items, dim, layers, layer_weights=config.layer_weights if config else None
        )
        self.adj = graph.normalized_adjacency()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.sampler = NegativeSampler(graph)

    def epoch(self, users: np.ndarray, items: np.ndarray, rng: np.random.Generator) -> float:
        from tui_recommender.engine.lightgcn.epochs import bpr_epoch, full_softmax_epoch

        g = self.graph
        c = None if self.config is None else self.config.sized(g.n_users, g.n_items, g.n_edges)  # as `train` does
        if c is not None and c.loss == "full_softmax":  # every user once, the epoch `train` plans
            from tui_recommender.engine.lightgcn.plan import EpochPlan
            from tui_recommender.engine.lightgcn.sampling import PopularItems

            plan = EpochPlan.of(c, len(np.unique(self.graph.users)), self.graph.n_items)
            scored = (PopularItems(self.graph, correction=c.logq), plan.scored) if plan.scored else None
            self.optimizer.param_groups[0]["lr"] = plan.lr
            return full_softmax_epoch(
                self.model, self.adj, self.optimizer, self.graph, rng, plan.user_batch, c.reg, scored=scored,
                temperature=c.cosine_temperature,
            )  # fmt: skip
        if c is None:
            return bpr_epoch(self.model, self.adj, self.optimizer, users, items, self.sampler, rng, BATCH, REG, 1)
        return bpr_epoch(
            self.model,
            self.adj,
            self.optimizer,
            users,
            items,
            self.sampler,
            rng,
            c.batch_size,
            c.reg,
            c.negatives,
            loss=c.loss,
            temperature=c.temperature,
        )


def old_app_epoch(folder) -> dict:
    """The old app's training loop (`../shared/anchors/seed_lightgcn.py RATINGS_CSV 1`),
    run as a child process with this interpreter: its JSON report (`s_per_epoch`, ...)."""
    import json
    import subprocess
    import sys

    script = harness.REPO_ROOT.parent / "shared" / "anchors" / "seed_lightgcn.py"
    if not script.is_file():
        return {"error": f"{script} not found"}
    done = subprocess.run(
        [sys.executable, str(script), str(folder / "ratings.csv"), "1"], capture_output=True, text=True
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


class PygNaive:
    name = "PyG LightGCN, naive"

    def __init__(self, graph) -> None:
        from torch_geometric.nn.models import LightGCN as PygLightGCN

        from tui_recommender.engine.lightgcn.sampling import NegativeSampler

        torch.manual_seed(0)
        self.n_users = graph.n_users
        self.model = PygLightGCN(graph.n_nodes, DIM, LAYERS)
        self.edge_index = edge_index_of(graph)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LR)
        self.sampler = NegativeSampler(graph)

    def epoch(self, users: np.ndarray, items: np.ndarray, rng: np.random.Generator) -> float:
        neg = torch.from_numpy(self.sampler.sample(users, rng, 1)[:, 0] + self.n_users)
        users_t, items_t = torch.from_numpy(users), torch.from_numpy(items + self.n_users)
        losses = []
        for start in range(0, len(users), BATCH):
            u, i, j = users_t[start : start + BATCH], items_t[start : start + BATCH], neg[start : start + BATCH]
            self.optimizer.zero_grad(set_to_none=True)
            emb = self.model.get_embedding(self.edge_index)
            pos_rank = (emb[u] * emb[i]).sum(-1)
            neg_rank = (emb[u] * emb[j]).sum(-1)
            loss = self.model.recommendation_loss(pos_rank, neg_rank, node_id=torch.cat([u, i, j]), lambda_reg=REG)
            loss.backward()
            self.optimizer.step()
            losses.append(loss.item())
        return float(np.mean(losses))


def epoch_pairs(graph, epoch: int, limit: int | None = None):
    """Epoch `epoch`'s (users, items, generator): every edge once in a seeded order; the
    generator then draws the negatives, so each contender gets the same ones."""
    from tui_recommender.engine.lightgcn.sampling import sample_positives

    rng = np.random.default_rng(1000 + epoch)
    users, items = sample_positives(graph, graph.n_edges, "edge", rng)
    return users[:limit], items[:limit], rng


def time_epochs(graph, contenders, epochs: int, warmup_batches: int) -> dict[str, dict]:
    """Warm each contender up on a few batches, then run `epochs` interleaved epochs; wall
    and CPU seconds (all threads) of each."""
    for c in contenders:
        c.epoch(*epoch_pairs(graph, -1, warmup_batches * BATCH))
    runs = {c.name: {"seconds": [], "cpu_seconds": [], "loss": []} for c in contenders}
    for epoch in range(epochs):
        for c in contenders:
            users, items, rng = epoch_pairs(graph, epoch)
            started, cpu_started = time.perf_counter(), time.process_time()
            loss = c.epoch(users, items, rng)
            runs[c.name]["seconds"].append(time.perf_counter() - started)
            runs[c.name]["cpu_seconds"].append(time.process_time() - cpu_started)
            runs[c.name]["loss"].append(round(loss, 5))
    return runs


# ---- micro-benchmark: one propagation, forward + backward ---------------------------------


def propagation_contenders(graph):
    """name -> fn(x0, grad) running forward + backward of the 3-layer mean, leaving the
    gradient in `x0.grad`."""
    from torch_geometric.nn.conv import LGConv
    from torch_geometric.nn.conv.gcn_conv import gcn_norm

    from tui_recommender.engine.lightgcn.model import _Propagate, mean_weights

    adj = graph.normalized_adjacency()
    edge_index = edge_index_of(graph)
    stock = LGConv()
    pre_normed = LGConv(normalize=False)
    _, weight = gcn_norm(edge_index, None, graph.n_nodes, add_self_loops=False)

    def layer_mean(step, x):
        total = x
        for _ in range(LAYERS):
            x = step(x)
            total = total + x
        return total / (LAYERS + 1)

    return {
        "ours: fused _Propagate": lambda x: _Propagate.apply(adj, x, mean_weights(LAYERS)),
        "torch: adj @ x (CSR autograd)": lambda x: layer_mean(lambda h: adj @ h, x),
        "PyG LGConv (stock, gcn_norm per call)": lambda x: layer_mean(lambda h: stock(h, edge_index), x),
        "PyG LGConv (normalize=False, weights precomputed)": lambda x: layer_mean(
            lambda h: pre_normed(h, edge_index, weight), x
        ),
    }


def time_propagation(graph, rounds: int) -> dict[str, dict]:
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(graph.n_nodes, DIM, generator=gen) * 0.1
    grad = torch.randn(graph.n_nodes, DIM, generator=gen)
    contenders = propagation_contenders(graph)
    reference = None
    results = {}
    for name, fn in contenders.items():  # warm-up, and check every contender computes the same
        x = x0.clone().requires_grad_()
        out = fn(x)
        out.backward(grad)
        if reference is None:
            reference = (out.detach(), x.grad)
        results[name] = {
            "seconds": [],
            "max_abs_diff_out": float((out.detach() - reference[0]).abs().max()),
            "max_abs_diff_grad": float((x.grad - reference[1]).abs().max()),
        }
    for _ in range(rounds):
        for name, fn in contenders.items():
            x = x0.clone().requires_grad_()
            started = time.perf_counter()
            fn(x).backward(grad)
            results[name]["seconds"].append(time.perf_counter() - started)
    return results


def main() -> None:
    cli = harness.parser(__doc__.split("\n\n")[0])
    cli.add_argument("--epochs", type=int, default=3, help="timed epochs per contender (default 3)")
    cli.add_argument("--warmup-batches", type=int, default=4, help="untimed batches per contender first (default 4)")
    cli.add_argument("--rounds", type=int, default=20, help="propagation micro-benchmark rounds (default 20)")
    args = cli.parse_args()
    folder = harness.dataset_folder(args)
    harness.set_threads(args)
    before = harness.machine()
    graph = protocol_graph(folder)

    from tui_recommender.engine.train_config import TrainConfig

    contenders = [Ours(graph), PygNaive(graph), Ours(graph, TrainConfig())]
    old_before = old_app_epoch(folder)
    runs = time_epochs(graph, contenders, args.epochs, args.warmup_batches)
    old_after = old_app_epoch(folder)
    ours, pyg = (runs[c.name]["seconds"] for c in contenders[:2])
    paired = [p / o for o, p in zip(ours, pyg)]
    ours_median = float(np.median(ours))
    epochs = {
        name: {
            "median_s": round(float(np.median(run["seconds"])), 4),
            "median_cpu_s": round(float(np.median(run["cpu_seconds"])), 4),
            "seconds": [round(s, 4) for s in run["seconds"]],
            "loss": run["loss"],
        }
        for name, run in runs.items()
    }
    speedup_pyg = round(float(np.median(paired)), 2)
    default_median = float(np.median(runs[contenders[2].name]["seconds"]))
    old_seconds = [r["s_per_epoch"] for r in (old_before, old_after) if "s_per_epoch" in r]
    old_median = float(np.median(old_seconds)) if old_seconds else float("nan")
    # Both of our contenders count: the old app's epoch against ours with its own setup
    # (1 negative, BPR) and against the app's default recipe epoch.
    speedup_old = harness.ratio(old_median, ours_median) if old_seconds else 0.0
    speedup_old_default = harness.ratio(old_median, default_median) if old_seconds else 0.0

    micro = time_propagation(graph, args.rounds)
    fused = float(np.median(micro["ours: fused _Propagate"]["seconds"]))
    for entry in micro.values():
        median = float(np.median(entry["seconds"]))
        entry.update(median_ms=round(median * 1e3, 3), vs_fused=harness.ratio(median, fused))
        del entry["seconds"]

    result = {
        "benchmark": "training",
        "machine": before,
        "load_average_1m_after": harness.machine()["load_average_1m"],
        "graph": {"users": graph.n_users, "items": graph.n_items, "train_positives": graph.n_edges},
        "setup": {
            "batch": BATCH,
            "dim": DIM,
            "layers": LAYERS,
            "negatives": 1,
            "lr": LR,
            "reg": REG,
            "epochs": args.epochs,
            "warmup_batches": args.warmup_batches,
        },
        "epochs": epochs,
        "speedup_vs_pyg_naive": speedup_pyg,
        "speedup_vs_pyg_naive_paired": [round(r, 2) for r in paired],
        "default_recipe": TrainConfig().hyperparameters(),
        "default_recipe_cost": harness.ratio(default_median, ours_median),
        "old_app": {"before": old_before, "after": old_after, "median_s_per_epoch": round(old_median, 3)},
        "speedup_vs_old_app": speedup_old,
        "speedup_vs_old_app_default_recipe": speedup_old_default,
        "targets": {"vs_pyg_naive": TARGET_VS_PYG, "vs_old_app": TARGET_VS_OLD_APP},
        "met": {
            "vs_pyg_naive": speedup_pyg >= TARGET_VS_PYG,
            "vs_old_app": min(speedup_old, speedup_old_default) >= TARGET_VS_OLD_APP,
        },
        "propagation_fwd_bwd": micro,
    }
    rows = [
        [
            name,
            f"{e['median_s']:.3f}",
            f"{e['median_cpu_s']:.2f}",
            " ".join(f"{s:.2f}" for s in e["seconds"]),
            f"{e['loss'][-1]:.4f}",
        ]
        for name, e in epochs.items()
    ]
    rows.append(
        [
            "old app (seed_lightgcn.py, child process, before + after)",
            f"{old_median:.3f}",
            "-",
            " ".join(f"{s:.2f}" for s in old_seconds),
            "-",
        ]
    )
    text = [
        f"Training epoch, ml-latest-small protocol train split ({graph.n_edges} positives), batch {BATCH}, dim {DIM}, "
        f"{LAYERS} layers, {args.threads} threads, load {before['load_average_1m']} -> {result['load_average_1m_after']}",
        harness.table(rows, ["contender", "s/epoch (median)", "CPU s/epoch", "each epoch (s)", "last loss"]),
        f"PyG naive / ours: {speedup_pyg}x (per round: {', '.join(f'{r:.1f}' for r in paired)}; target >= {TARGET_VS_PYG:g}x)",
        f"old app / ours: {speedup_old}x with PyG's setup, {speedup_old_default}x with the default recipe (target >= {TARGET_VS_OLD_APP:g}x)",
        f"default recipe epoch / PyG's setup epoch: {result['default_recipe_cost']}x",
        "",
        f"One propagation ({LAYERS} layers, forward + backward), median of {args.rounds} rounds",
        harness.table(
            [
                [
                    n,
                    f"{e['median_ms']:.2f}",
                    f"{e['vs_fused']:.2f}x",
                    f"{max(e['max_abs_diff_out'], e['max_abs_diff_grad']):.1e}",
                ]
                for n, e in micro.items()
            ],
            ["contender", "ms", "vs fused", "max |diff|"],
        ),
    ]
    harness.emit(args, "\n".join(text), result)


if __name__ == "__main__":
    main()
