"""Does a new profile get its taste back? (issue 7)

For each persona, a new profile rates five films of one genre (chosen by hand below) with
the top of the scale, through the app's path (`create_user`, `rate`, `update_model`); the
score is the share of its top 10 in that genre (a film counts if it has any of the
persona's genres), before the update (the fallback ranking) and after it, beside EASE
(lambda 100, items with >= 5 positives) fitted on the dataset and given the same five films.

    python benchmarks/bench_persona.py [--data DIR] [--checkpoint PATH] [--json]
"""

from __future__ import annotations

import tempfile

import harness  # first: it sets up the environment torch must load in
import numpy as np

# persona -> (genres that count, the five films: ml-latest-small movieIds)
PERSONAS = {
    "Animation/Children": (
        ("Animation", "Children"),
        (1, 364, 588, 595, 6377),
    ),  # Toy Story, Lion King, Aladdin, Beauty and the Beast, Finding Nemo
    "Horror": (("Horror",), (1258, 1219, 1407, 2710, 1997)),  # The Shining, Psycho, Scream, Blair Witch, The Exorcist
    "Documentary": (
        ("Documentary",),
        (5669, 8464, 8622, 2064, 246),
    ),  # Bowling for Columbine, Super Size Me, Fahrenheit 9/11, Roger & Me, Hoop Dreams
    "War": (
        ("War",),
        (2028, 1208, 1222, 1090, 68157),
    ),  # Saving Private Ryan, Apocalypse Now, Full Metal Jacket, Platoon, Inglourious Basterds
    "Western": (
        ("Western",),
        (1201, 1266, 553, 1304, 99114),
    ),  # The Good the Bad and the Ugly, Unforgiven, Tombstone, Butch Cassidy, Django Unchained
    "Film-Noir": (
        ("Film-Noir",),
        (1252, 913, 922, 2186, 1212),
    ),  # Chinatown, The Maltese Falcon, Sunset Blvd., Strangers on a Train, The Third Man
}
EASE_LAMBDA = 100.0
TOP = 10


def share(movies, genres: tuple[str, ...]) -> float:
    return sum(bool(set(m.genres) & set(genres)) for m in movies) / len(movies) if movies else 0.0


def main() -> int:
    cli = harness.parser(__doc__.splitlines()[0])
    cli.add_argument("--checkpoint", metavar="PATH", help="model to start from (default: the shipped weights)")
    args = cli.parse_args()
    folder = harness.dataset_folder(args)
    harness.set_threads(args)

    from tui_recommender.app.service import RecommenderService
    from tui_recommender.config.settings import Settings
    from tui_recommender.core.rating_scale import POSITIVE_THRESHOLD
    from tui_recommender.engine.baselines.ease import EASE
    from tui_recommender.engine.graph import InteractionGraph

    rows, result = [], {"machine": harness.machine(), "personas": {}}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.resolve(data=folder, state_dir=tmp, checkpoint=args.checkpoint)
        service = RecommenderService.open(settings)
        data, items = service.data, service.catalogue.items
        pos = data.ratings[data.ratings["rating"] >= POSITIVE_THRESHOLD]
        train_users = np.unique(pos["userId"].to_numpy(), return_inverse=True)[1]
        train_items = items.indices(pos["movieId"])
        ease_model = EASE(EASE_LAMBDA, min_count=5)
        ease_model.fit(InteractionGraph.from_pairs(int(train_users.max()) + 1, len(items), train_users, train_items))
        for name, (genres, films) in PERSONAS.items():
            user = service.create_user()
            for movie in films:
                service.rate(user, movie, data.scale.high)
            before = [r.movie for r in service.recommend(user, k=TOP)]
            service.update_model()
            after = [r.movie for r in service.recommend(user, k=TOP)]
            history = items.indices(np.array(films))
            s = ease_model.scores(
                np.zeros(1, dtype=np.int64), InteractionGraph.from_pairs(1, len(items), 0 * history, history)
            )[0]
            s[history] = -np.inf
            ease = [service.movie(int(items.raw_ids[i])) for i in np.argsort(-s, kind="stable")[:TOP]]
            entry = {
                "before_update": share(before, genres),
                "after_update": share(after, genres),
                "ease": share(ease, genres),
                "top10_after": [m.title for m in after],
                "top10_ease": [m.title for m in ease],
            }
            result["personas"][name] = entry
            rows.append(
                [
                    name,
                    f"{entry['before_update']:.1f}",
                    f"{entry['after_update']:.1f}",
                    f"{entry['ease']:.1f}",
                    "yes" if entry["after_update"] >= entry["ease"] else "NO",
                ]
            )
        result["model"] = str(service.model_source)
        service.close()
    result["met"] = all(e["after_update"] >= e["ease"] for e in result["personas"].values())
    text = harness.table(
        rows, ["persona (5 films rated top)", "share before update", "after update (app)", "EASE", ">= EASE"]
    )
    harness.emit(args, f"Share of the top {TOP} in the persona's genre ({result['model']})\n{text}", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
