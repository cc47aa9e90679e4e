"""Hand-written code against the maintained library that does the same job, on
ml-latest-small, in one run (issue 9: switch, or say why not with a figure):

- negative sampling for one epoch (one positive per edge, 8 negatives each): our
  `NegativeSampler.sample` vs PyG's `structured_negative_sampling`, called 8 times;
- the normalised adjacency: our int32 CSR build vs PyG's `gcn_norm` + `to_torch_csr_tensor`
  (int64), one 3-layer propagation (X: n_nodes x 64) over each, and what importing
  `torch_geometric.utils` adds to `import torch` (the app builds it at each update);
- a dataset download with SHA-256 check and unpack, served from 127.0.0.1: our
  `download._fetch_grouplens` vs `pooch.retrieve(..., processor=pooch.Unzip())`, plus the
  time `import pooch` adds (pooch is not a project dependency: `pip install pooch` to
  include this part; it is skipped without it).
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import harness
import numpy as np

NEGATIVES = 8
DIM = 64
LAYERS = 3


def best_of(repeats: int, fn) -> float:
    """The fastest of `repeats` calls, in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def negative_sampling(graph, repeats: int) -> dict:
    import torch
    from torch_geometric.utils import structured_negative_sampling

    from tui_recommender.engine.lightgcn.sampling import NegativeSampler

    rng = np.random.default_rng(0)
    sampler = NegativeSampler(graph)
    ours = best_of(repeats, lambda: sampler.sample(graph.users, rng, NEGATIVES))
    edge_index = torch.from_numpy(np.stack([graph.users, graph.items]))
    pyg = best_of(repeats, lambda: [structured_negative_sampling(edge_index, graph.n_items) for _ in range(NEGATIVES)])
    negatives = structured_negative_sampling(edge_index, graph.n_items)[2].numpy()
    clash = float(sampler.is_positive(graph.users, negatives).mean())
    return {
        "ours_s": round(ours, 4),
        "pyg_s": round(pyg, 4),
        "pyg_over_ours": harness.ratio(pyg, ours),
        "pyg_negatives_that_are_positives": clash,
    }


def adjacency(graph, repeats: int) -> dict:
    import torch
    from torch_geometric.nn.conv.gcn_conv import gcn_norm
    from torch_geometric.utils import to_torch_csr_tensor

    def pyg_build():
        items = torch.from_numpy(graph.items + graph.n_users)
        users = torch.from_numpy(graph.users)
        edge_index = torch.stack([torch.cat([users, items]), torch.cat([items, users])])
        edge_index, weight = gcn_norm(edge_index, None, graph.n_nodes, add_self_loops=False)
        return to_torch_csr_tensor(edge_index, weight, size=(graph.n_nodes, graph.n_nodes))

    ours_adj, pyg_adj = graph.normalized_adjacency(), pyg_build()
    dense_check = (ours_adj.to_dense() - pyg_adj.to_dense()).abs().max().item()
    x = torch.randn(graph.n_nodes, DIM)

    def propagate(adj):
        h = x
        for _ in range(LAYERS):
            h = adj @ h
        return h

    build_ours = best_of(repeats, graph.normalized_adjacency)
    build_pyg = best_of(repeats, pyg_build)
    prop_ours = best_of(repeats * 10, lambda: propagate(ours_adj))
    prop_pyg = best_of(repeats * 10, lambda: propagate(pyg_adj))
    return {
        "index_dtypes": [str(ours_adj.crow_indices().dtype), str(pyg_adj.crow_indices().dtype)],
        "max_abs_difference": dense_check,
        "build_ours_s": round(build_ours, 4), "build_pyg_s": round(build_pyg, 4),
        "propagate_ours_s": round(prop_ours, 4), "propagate_pyg_s": round(prop_pyg, 4),
        "propagate_pyg_over_ours": harness.ratio(prop_pyg, prop_ours),
        "import_pyg_utils_over_torch_s": round(import_seconds("import torch; import torch_geometric.utils") - import_seconds("import torch"), 3),
    }  # fmt: skip


def import_seconds(code: str) -> float:
    """The fastest of 3 fresh interpreters running `code`, in seconds."""
    return best_of(3, lambda: subprocess.run([sys.executable, "-c", code], check=True, capture_output=True))


def download(folder: Path, repeats: int) -> dict:
    try:
        import pooch
    except ImportError:
        return {"skipped": "pooch is not installed (pip install pooch)"}
    from tui_recommender.data import download as ours

    with tempfile.TemporaryDirectory(prefix="bench-download-") as tmp:
        tmp = Path(tmp)
        archive = tmp / "served" / "ml-latest-small.zip"
        archive.parent.mkdir()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted(folder.iterdir()):
                zipped.write(path, f"ml-latest-small/{path.name}")
        sha = hashlib.sha256(archive.read_bytes()).hexdigest()
        handler = functools.partial(QuietHandler, directory=str(archive.parent))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/ml-latest-small.zip"
        ours.GROUPLENS_URL = url.replace("ml-latest-small", "{name}")
        ours.GROUPLENS_SHA256["ml-latest-small"] = sha
        runs = iter(range(10**6))

        def with_ours():
            work = tmp / f"ours-{next(runs)}"
            work.mkdir()
            ours._fetch_grouplens("ml-latest-small", work, progress=False)

        def with_pooch():
            where = tmp / f"pooch-{next(runs)}"
            pooch.retrieve(url, known_hash=f"sha256:{sha}", path=where, processor=pooch.Unzip(), progressbar=False)

        pooch.get_logger().setLevel("WARNING")

        try:
            ours_s, pooch_s = best_of(repeats, with_ours), best_of(repeats, with_pooch)
        finally:
            server.shutdown()
    return {"ours_s": round(ours_s, 4), "pooch_s": round(pooch_s, 4), "pooch_over_ours": harness.ratio(pooch_s, ours_s),
            "import_pooch_s": round(import_seconds("import pooch") - import_seconds("pass"), 4)}  # fmt: skip


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_args) -> None:
        pass


def main() -> None:
    cli = harness.parser(__doc__.split("\n\n")[0])
    cli.add_argument("--repeats", type=int, default=5, help="timed calls per variant; the fastest is kept (default 5)")
    args = cli.parse_args()
    folder = harness.dataset_folder(args)
    harness.set_threads(args)
    before = harness.machine()

    from tui_recommender.data.movielens import load_dataset
    from tui_recommender.engine.interactions import Interactions

    data = load_dataset(folder)
    graph = Interactions.build(data.ratings, data.movies.index.to_numpy()).graph
    result = {
        "machine": before,
        "edges": graph.n_edges,
        "negative_sampling": negative_sampling(graph, args.repeats),
        "adjacency": adjacency(graph, args.repeats),
        "download": download(folder, args.repeats),
    }
    neg, adj, dl = result["negative_sampling"], result["adjacency"], result["download"]
    rows = [
        [
            "negative sampling, 8 per edge",
            f"{neg['ours_s'] * 1e3:.1f} ms",
            f"{neg['pyg_s'] * 1e3:.1f} ms (structured_negative_sampling x8)",
            neg["pyg_over_ours"],
        ],
        [
            "adjacency build",
            f"{adj['build_ours_s'] * 1e3:.1f} ms",
            f"{adj['build_pyg_s'] * 1e3:.1f} ms (gcn_norm + to_torch_csr_tensor)",
            harness.ratio(adj["build_pyg_s"], adj["build_ours_s"]),
        ],
        [
            "3-layer propagation, dim 64",
            f"{adj['propagate_ours_s'] * 1e3:.1f} ms (int32)",
            f"{adj['propagate_pyg_s'] * 1e3:.1f} ms (int64)",
            adj["propagate_pyg_over_ours"],
        ],
        ["import", "-", f"+{adj['import_pyg_utils_over_torch_s']:.2f} s (torch_geometric.utils after torch)", "-"],
    ]
    if "ours_s" in dl:
        rows.append(
            [
                "download + SHA-256 + unzip",
                f"{dl['ours_s'] * 1e3:.0f} ms",
                f"{dl['pooch_s'] * 1e3:.0f} ms (pooch.retrieve + Unzip)",
                dl["pooch_over_ours"],
            ]
        )
        rows.append(["import", "-", f"{dl['import_pooch_s'] * 1e3:.0f} ms (import pooch)", "-"])
    text = harness.table(rows, ["job", "ours", "library", "library / ours"])
    text += f"\n{graph.n_edges} positive edges; machine load {before['load_average_1m']} (shared 2-core machine)"
    harness.emit(args, text, result)


if __name__ == "__main__":
    main()
