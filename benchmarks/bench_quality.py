"""Quality on the protocol (docs/PROTOCOL.md) of training recipes and of scoring variants,
beside EASE and most-popular: Recall/NDCG/Precision@10,20, coverage@20, ARP@20 and
miscalibration@20 (issue 7).

    # train a recipe on the protocol's train split, keep every layer's embeddings
    python benchmarks/bench_quality.py train --config '{"loss": "softmax"}' --save runs/x.npz
    # score saved layers many ways, no training (layer weights, dot/cosine, novelty)
    python benchmarks/bench_quality.py score runs/x.npz [--weights 1,1,1,1 ...] [--novelty 0,0.1]
    # most-popular and EASE (engine.baselines; lambda chosen on validation unless given)
    python benchmarks/bench_quality.py baselines [--ease-lambda 100]
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path

import harness  # first: it sets up the environment torch must load in
import numpy as np


def protocol(folder: Path):
    """(data, users, items, train graph, test user indices, test item indices, genres)."""
    from tui_recommender.data.movielens import load_dataset
    from tui_recommender.engine.evaluation import genre_matrix, positives, split_per_user
    from tui_recommender.engine.id_map import IdMap
    from tui_recommender.engine.interactions import pairs_graph

    data = load_dataset(folder)
    train_pairs, test_pairs = split_per_user(positives(data.ratings))
    users = IdMap(np.sort(data.ratings["userId"].unique()))
    items = IdMap(data.movies.index.to_numpy())
    graph = pairs_graph(train_pairs, users, items)
    return (
        data,
        users,
        items,
        graph,
        users.indices(test_pairs["userId"]),
        items.indices(test_pairs["movieId"]),
        genre_matrix(data),
    )


def figures(top: np.ndarray, graph, test_u, test_i, genres) -> dict:
    from tui_recommender.engine.evaluation import protocol_metrics

    m = protocol_metrics(top, graph.users, graph.items, test_u, test_i, genres)
    return {
        key: m[key]
        for key in (
            "recall@20",
            "ndcg@20",
            "precision@20",
            "recall@10",
            "ndcg@10",
            "coverage@20",
            "arp@20",
            "miscalibration@20",
        )
    }


def ranked(user_emb, item_emb, graph, scoring="dot", novelty=0.0) -> np.ndarray:
    from tui_recommender.engine.ranking import popularity_penalty, top_k_unseen

    penalty = popularity_penalty(np.bincount(graph.items, minlength=graph.n_items))
    return top_k_unseen(user_emb, item_emb, graph.users, graph.items, 20, scoring, penalty, novelty)


def cmd_train(args, folder: Path) -> dict:

    import pandas as pd

    from tui_recommender.engine.lightgcn.training import train_on_pairs
    from tui_recommender.engine.train_config import TrainConfig

    _, users, items, graph, test_u, test_i, genres = protocol(folder)
    overrides = json.loads(args.config)
    config = TrainConfig(**overrides)  # checked field by field, lists of weights included
    pairs = pd.DataFrame({"userId": users.raw_ids[graph.users], "movieId": items.raw_ids[graph.items]})

    def on_epoch(stats) -> None:
        extra = f" val {stats.val_recall20:.4f}" if stats.val_recall20 is not None else ""
        print(f"  epoch {stats.epoch} loss {stats.loss:.4f} {stats.seconds:.2f}s{extra}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    result = train_on_pairs(pairs, users, items, config, on_epoch=on_epoch)
    seconds = time.perf_counter() - started
    adj, layer, layers = graph.normalized_adjacency(result.model.device), result.model.embedding.weight.detach(), []
    for _ in range(config.n_layers + 1):  # E^(0..K), unweighted: `score` re-weighs them
        layers.append(layer.cpu().numpy())
        layer = adj @ layer
    if args.save:
        Path(args.save).parent.mkdir(parents=True, exist_ok=True)
        np.savez(args.save, layers=np.stack(layers), n_users=graph.n_users, config=json.dumps(config.hyperparameters()))
    final = sum(w * layer for w, layer in zip(result.model.layer_weights, layers))
    top = ranked(final[: graph.n_users], final[graph.n_users :], graph, config.scoring)
    return {
        "config": overrides,
        "train_seconds": round(seconds, 1),
        "training": result.summary(),
        **figures(top, graph, test_u, test_i, genres),
    }


def cmd_score(args, folder: Path) -> list[dict]:
    _, _, _, graph, test_u, test_i, genres = protocol(folder)
    saved = np.load(args.layers)
    layers, n_users = saved["layers"], int(saved["n_users"])
    rows = []
    weight_sets = [tuple(float(w) for w in spec.split(",")) for spec in args.weights] or [(1.0,) * len(layers)]
    for weights, scoring, novelty, power in itertools.product(weight_sets, args.scoring, args.novelty, args.norm_power):
        if scoring == "cosine" and power:
            continue
        final = sum(w * layer for w, layer in zip(weights, layers)) / sum(weights)
        item_emb = final[n_users:] * np.maximum(np.linalg.norm(final[n_users:], axis=1, keepdims=True), 1e-12) ** -power
        top = ranked(final[:n_users], item_emb, graph, scoring, novelty)
        row = {
            "weights": weights,
            "scoring": scoring,
            "novelty": novelty,
            "norm_power": power,
            **figures(top, graph, test_u, test_i, genres),
        }
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    return rows


def cmd_baselines(args, folder: Path) -> list[dict]:
    from tui_recommender.data.movielens import load_dataset
    from tui_recommender.engine.baselines.ease import EASE
    from tui_recommender.engine.baselines.popular import MostPopular
    from tui_recommender.engine.evaluation import ProtocolSplit, evaluate_recommender

    split = ProtocolSplit.of(load_dataset(folder))
    rows = []
    for model in (MostPopular(), EASE(args.ease_lambda)):
        row = evaluate_recommender(model, split)
        rows.append({"method": model.describe(), "fit_seconds": row["fit_seconds"], **row["metrics"]})
    return rows


def main() -> int:
    cli = harness.parser(__doc__.splitlines()[0])
    sub = cli.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train")
    train.add_argument("--config", default="{}", help="TrainConfig overrides as JSON")
    train.add_argument("--save", help="write every layer's embeddings here (.npz)")
    score = sub.add_parser("score")
    score.add_argument("layers", help="an .npz written by `train --save`")
    score.add_argument("--weights", action="append", default=[], help="alpha_0,...,alpha_K (repeatable)")
    score.add_argument("--scoring", nargs="+", default=["dot", "cosine"])
    score.add_argument("--novelty", nargs="+", type=float, default=[0.0])
    score.add_argument(
        "--norm-power", nargs="+", type=float, default=[0.0], help="with dot: item rows scaled by |row|^-p"
    )
    base = sub.add_parser("baselines")
    base.add_argument("--ease-lambda", type=float, help="default: chosen on validation, as `evaluate --baselines`")
    args = cli.parse_args()
    folder = harness.dataset_folder(args)
    harness.set_threads(args)
    result = {"train": cmd_train, "score": cmd_score, "baselines": cmd_baselines}[args.command](args, folder)
    out = {"machine": harness.machine(), "result": result}
    print(json.dumps(out) if args.json else json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
