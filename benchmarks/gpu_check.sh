#!/usr/bin/env bash
# One command for a machine with a CUDA GPU (issue 18): prints one JSON object with
#   - the ml-32m-shaped epoch: the default recipe's full-softmax epoch on a numpy-generated
#     graph of 200,948 users x 87,585 movies x 32,000,204 pairs (bench_open.py's generator,
#     every pair a positive), its seconds and torch.cuda.max_memory_allocated;
#   - the Gowalla table of bench_gowalla.py for our recipe at dim 64 (early stopping, refit);
#   - the ml-latest-small protocol figures (`tui-recommender evaluate`, docs/PROTOCOL.md),
#     the dataset downloaded into a temporary folder.
# About 8 minutes on one GPU: the ml-32m epoch stops after EPOCH_BUDGET seconds (default 240)
# and is then extrapolated from the steps done (said in the JSON).
#
#   benchmarks/gpu_check.sh GOWALLA_DIR        # the LightGCN paper's split: s_adj_mat.npz, test.txt
#
# Without a CUDA GPU it says so in one line and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}

if ! "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    echo "gpu_check: no CUDA GPU here (torch.cuda.is_available() is false); nothing measured"
    exit 0
fi
if [ $# -ne 1 ]; then
    echo "gpu_check: usage: benchmarks/gpu_check.sh GOWALLA_DIR" >&2
    exit 2
fi
GOWALLA=$1
for file in s_adj_mat.npz test.txt; do  # checked before the 4-minute epoch, not after it
    if [ ! -f "$GOWALLA/$file" ]; then
        echo "gpu_check: $GOWALLA has no $file (the LightGCN paper's Gowalla split: s_adj_mat.npz, test.txt)" >&2
        exit 2
    fi
done
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

EPOCH_BUDGET=${EPOCH_BUDGET:-240} "$PYTHON" - > "$WORK/shape.json" <<'PY'
import os, sys, time, json
sys.path.insert(0, "benchmarks")
import harness  # noqa: F401  (first: the environment torch loads in)
import bench_open
import numpy as np
import torch
from tui_recommender.engine.graph import InteractionGraph
from tui_recommender.engine.lightgcn.model import LightGCN
from tui_recommender.engine.lightgcn.epochs import full_softmax_epoch
from tui_recommender.engine.lightgcn.plan import EpochPlan
from tui_recommender.engine.lightgcn.sampling import PopularItems
from tui_recommender.engine.train_config import TrainConfig

shape = bench_open.SHAPES["ml-32m"]
users, items = bench_open._pairs(shape, np.random.default_rng(0))  # distinct, sorted by user
graph = InteractionGraph(shape.users, shape.movies, users, items)
config = TrainConfig(device="cuda").sized(graph.n_users, graph.n_items, graph.n_edges)  # as `train` sizes it
device = torch.device("cuda")
torch.manual_seed(0)
model = LightGCN(graph.n_users, graph.n_items, config.dim, config.n_layers, config.init_std, None, device)
adj = graph.normalized_adjacency(device)
plan = EpochPlan.of(config, len(np.unique(graph.users)), graph.n_items)  # as `train` sizes the epoch
scored = (PopularItems(graph, correction=config.logq), plan.scored) if plan.scored else None
optimizer = torch.optim.Adam(model.parameters(), lr=plan.lr)
torch.cuda.synchronize()
torch.cuda.reset_peak_memory_stats()
budget, asked, stopped = float(os.environ["EPOCH_BUDGET"]), [0], [False]
started = time.perf_counter()

def should_stop() -> bool:  # asked once before each step
    asked[0] += 1
    stopped[0] = time.perf_counter() - started > budget
    return stopped[0]

loss = full_softmax_epoch(
    model, adj, optimizer, graph, np.random.default_rng(0), plan.user_batch, config.reg, should_stop, None, scored
)
torch.cuda.synchronize()
seconds = time.perf_counter() - started
steps = plan.steps(len(np.unique(graph.users)))
done = asked[0] - 1 if stopped[0] else asked[0]
print(json.dumps({
    "shape": {"users": shape.users, "movies": shape.movies, "pairs": int(graph.n_edges)},
    "recipe": {"dim": config.dim, "layers": config.n_layers, "user_batch": plan.user_batch, "scored_movies": plan.scored or graph.n_items, "loss": config.loss},
    "steps_done": int(done), "steps_per_epoch": int(steps), "complete": bool(done == steps),
    "epoch_seconds": round(seconds * steps / max(done, 1), 1),
    "measured_seconds": round(seconds, 1), "loss": loss,
    "peak_gpu_memory_gb": round(torch.cuda.max_memory_allocated() / 2**30, 3),
    "gpu": torch.cuda.get_device_name(),
}))
PY

"$PYTHON" benchmarks/bench_gowalla.py --data "$GOWALLA" --recipe ours --device cuda --json > "$WORK/gowalla.json"

TUI_RECOMMENDER_DATA_ROOT="$WORK/data" "$PYTHON" -m tui_recommender data download ml-latest-small > /dev/null
TUI_RECOMMENDER_DATA_ROOT="$WORK/data" "$PYTHON" -m tui_recommender evaluate --device cuda --json \
    --data "$WORK/data/ml-latest-small" --state-dir "$WORK/state" > "$WORK/protocol.json"

"$PYTHON" - "$WORK" <<'PY'
import json, sys
from pathlib import Path
work = Path(sys.argv[1])
read = lambda name: json.loads((work / name).read_text())
protocol = read("protocol.json")
print(json.dumps({
    "ml32m_shape_epoch": read("shape.json"),
    "gowalla_ours": read("gowalla.json"),
    "ml_latest_small_protocol": {"metrics": protocol["metrics"], "train_seconds": protocol["train_seconds"],
                                 "training": protocol["training"], "device": protocol["device"]},
}, indent=1))
PY
