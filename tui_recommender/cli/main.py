# PYTHON_ARGCOMPLETE_OK (argcomplete's global completion looks for this marker)
"""The command line: `tui-recommender` opens the app; subcommands train, evaluate,
recommend, rate, manage stored ratings, fetch data and print shell completion scripts.
Errors a user can cause print one line on stderr and exit with code 2."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from tui_recommender import __version__
from tui_recommender.config.settings import Settings, path_problem
from tui_recommender.core.errors import UserError
from tui_recommender.core.ids import id_problem

EXIT_USER_ERROR = 2
PROG = "tui-recommender"
SHELLS = ("bash", "zsh", "fish")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, not usage + message, like every other user error."""
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def _id(text: str) -> int:
    """A user or movie id, by the one rule of `ids`."""
    problem = id_problem(text)
    if problem is not None:
        shown = text if len(text) <= 40 else f"{text[:40]}…"
        raise argparse.ArgumentTypeError(f"{shown!r} {problem}")
    return int(text)


def _path(text: str) -> str:
    """A path the OS can take (see `config.path_problem`); checked before any work starts."""
    problem = path_problem(text)
    if problem is not None:
        shown = text if len(text) <= 80 else f"{text[:40]}…{text[-40:]}"
        raise argparse.ArgumentTypeError(f"{shown!r} {problem}")
    return text


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def _novelty(text: str) -> float:
    """The popular (0) <-> niche (1) dial, by the rule the config file uses."""
    from tui_recommender.config.user_file import parse_novelty

    return parse_novelty(text, argparse.ArgumentTypeError)


def _common_options(default: object) -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--data",
        metavar="DIR",
        type=_path,
        default=default,
        help="dataset folder (ml-latest-small or ml-100k layout); default: the one in data/, downloaded if none",
    )
    options.add_argument(
        "--state-dir",
        metavar="DIR",
        type=_path,
        default=default,
        help="where your ratings and the fine-tuned model live (env TUI_RECOMMENDER_STATE_DIR)",
    )
    options.add_argument(
        "--checkpoint", metavar="PATH", type=_path, default=default, help="a model checkpoint to start from (.npz)"
    )
    return options


def build_parser() -> argparse.ArgumentParser:
    # Subcommands repeat the options with no default, so one given before the
    # subcommand is not reset to None by the subcommand's parser.
    common = _common_options(argparse.SUPPRESS)
    parser = _Parser(
        prog=PROG,
        parents=[_common_options(None)],
        description="Movie recommendations in your terminal, learned with LightGCN from every rating you type.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = sub.add_parser("train", parents=[common], help="train a model on the dataset plus your stored ratings")
    train.add_argument("--epochs", type=_positive, help="maximum epochs (early stopping may end sooner)")
    train.add_argument(
        "--out", metavar="PATH", type=_path, help="checkpoint to write (default: the state dir's, which the app loads)"
    )
    train.add_argument("--json", action="store_true", help="print one JSON summary on stdout")

    evaluate = sub.add_parser(
        "evaluate", parents=[common], help="train on the protocol's train split and report Recall/NDCG/Precision@10,20"
    )
    evaluate.add_argument("--epochs", type=_positive, help="maximum epochs (early stopping may end sooner)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    recommend = sub.add_parser("recommend", parents=[common], help="top movies for a user")
    recommend.add_argument("--user", type=_id, required=True, metavar="ID")
    recommend.add_argument(
        "--genre",
        action="append",
        default=[],
        metavar="G",
        help="keep movies with any of these genres (repeatable; default: the config file's genres)",
    )
    recommend.add_argument("-k", type=_positive, default=10, metavar="N", help="how many (default 10)")
    recommend.add_argument(
        "--novelty",
        type=_novelty,
        metavar="X",
        help="popular (0) <-> niche (1) for this call; default: the profile's setting (the app's dial)",
    )
    recommend.add_argument("--json", action="store_true", help="print a JSON list on stdout")

    rate = sub.add_parser("rate", parents=[common], help="rate a movie: stored, then the model is updated and saved")
    rate.add_argument("--user", type=_id, required=True, metavar="ID")
    rate.add_argument("--movie", type=_id, required=True, metavar="ID")
    rate.add_argument("--rating", required=True, metavar="R", help="stars on the dataset's scale")

    ratings = sub.add_parser(
        "ratings", parents=[common], help="export or import ratings, watchlists and not-interested lists"
    )
    ratings_sub = ratings.add_subparsers(dest="ratings_command", metavar="ACTION", required=True, parser_class=_Parser)
    export = ratings_sub.add_parser("export", parents=[common], help="write stored ratings to stdout")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    imp = ratings_sub.add_parser(
        "import",
        parents=[common],
        help="add ratings from an IMDb or Letterboxd export or our own (all or nothing), then update the model once",
        description="FILE: IMDb's ratings export (CSV), Letterboxd's ratings.csv or diary.csv, or this app's own export (CSV or JSON), recognised by the header.",
    )
    imp.add_argument(
        "--user",
        type=_id,
        metavar="ID",
        help="who gets the ratings (required for IMDb and Letterboxd files; a new ID starts a profile)",
    )
    imp.add_argument("--dry-run", action="store_true", help="print the report, store nothing")
    imp.add_argument("file", metavar="FILE", type=_path)

    data = sub.add_parser("data", parents=[common], help="get datasets")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True, parser_class=_Parser)
    download = data_sub.add_parser("download", parents=[common], help="download a dataset into data/")
    # Not `choices=DATASET_NAMES`: importing `download` loads pandas before the app starts;
    # download() itself rejects an unknown name with the list.
    download.add_argument(
        "name", metavar="NAME", help="ml-latest-small, ml-100k or ml-100k-mirror (built offline from PyPI)"
    )

    completion = sub.add_parser("completion", help="print the shell completion script (see README: Shell completion)")
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # a shell asks for completions: argcomplete answers and exits
        import argcomplete

        argcomplete.autocomplete(parser)
    args = parser.parse_args(argv)
    try:
        settings = Settings.resolve(data=args.data, state_dir=args.state_dir, checkpoint=args.checkpoint)
        if args.command is None:
            # Interactive use: torch loads later (lazily); its idle OpenMP threads should then
            # sleep, not spin, or a fine-tune runs 2-10x slower whenever anything else wants a
            # core. Batch training keeps spinning threads, ~30% faster on an idle machine.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            from tui_recommender.tui.app import run_app

            return run_app(settings)
        return _COMMANDS[args.command](args, settings)
    except UserError as error:
        print(f"tui-recommender: {inert(str(error))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("tui-recommender: interrupted", file=sys.stderr)
        return 130


# Terminal control characters (escape sequences, bells) and bidi overrides in dataset or
# file text: printed as escapes, so they show and never act on the terminal.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def inert(text: str) -> str:
    """`text` safe to print as one line of a terminal: control characters become escapes."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS else ch
        for ch in text
    )


def _status(text: str) -> None:
    print(inert(text), file=sys.stderr)


def _progress(quiet: bool, what: str = "training"):
    """Training progress on stderr (see `progress`); none for `--json` into a pipe."""
    from tui_recommender.app.progress import EpochProgress

    if quiet and not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    return EpochProgress(what)


def _cmd_train(args, settings: Settings) -> int:
    from tui_recommender.app.jobs import train_model

    with _progress(args.json) as on_epoch:
        report = train_model(settings, args.epochs, Path(args.out) if args.out else None, on_epoch, _status)
    result = report.result
    summary = {
        "dataset": report.dataset,
        "checkpoint": str(report.checkpoint),
        "positives": report.positives,
        **result.summary(),
        "hyperparameters": result.config.to_dict(),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"trained {summary['epochs']} epochs ({summary['seconds_per_epoch']:.3f} s/epoch; early stopping chose {summary['best_epoch']} of {summary['validation_epochs']}), "
            f"validation Recall@20 {result.val_metrics.get('recall@20', float('nan')):.4f}; wrote {report.checkpoint}"
        )
    return 0


def _cmd_evaluate(args, settings: Settings) -> int:
    from tui_recommender.app.jobs import evaluate_model

    with _progress(args.json) as on_epoch:
        report = evaluate_model(settings, args.epochs, on_epoch, _status)
    if args.json:
        print(json.dumps(report))
    else:
        m = report["metrics"]
        print(
            f"{report['dataset']}: {report['test_users']} test users, {report['test_positives']} test positives, trained in {report['train_seconds']:.1f} s"
        )
        for k in (10, 20):
            print(
                f"  @{k}: Recall {m[f'recall@{k}']:.4f}  NDCG {m[f'ndcg@{k}']:.4f}  Precision {m[f'precision@{k}']:.4f}"
            )
        print(f"  hyperparameters: {json.dumps(report['hyperparameters'])}")
    return 0


def _service(settings: Settings):
    from tui_recommender.app.service import RecommenderService

    with _progress(False, "training a model for this data") as on_epoch:
        return RecommenderService.open(settings, on_warning=_status, on_epoch=on_epoch)


def _cmd_recommend(args, settings: Settings) -> int:
    service = _service(settings)
    try:
        genres = args.genre or _config_genres(settings, service)
        recs = service.recommend(args.user, genres=genres, k=args.k, novelty=args.novelty)
    finally:
        service.close()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "movieId": r.movie.movie_id,
                        "title": r.movie.title,
                        "year": r.movie.year,
                        "genres": list(r.movie.genres),
                        "score": round(r.score, 6),
                    }
                    for r in recs
                ]
            )
        )
    else:
        for r in recs:
            year = f" ({r.movie.year})" if r.movie.year else ""
            print(inert(f"{r.rank:>3}. {r.movie.title}{year}  [{', '.join(r.movie.genres) or '-'}]  {r.score:.3f}"))
    return 0


def _config_genres(settings: Settings, service) -> tuple[str, ...]:
    """The config file's genres that this dataset has; the others are named on stderr."""
    from tui_recommender.config.user_file import known_genres

    genres, unknown = known_genres(settings.genres, [genre for genre, _ in service.genre_counts()])
    if unknown:
        _status(
            f"tui-recommender: config file {settings.config_file}: genres: not genres of {service.dataset_name}, ignored: {', '.join(unknown)}"
        )
    return genres


def _cmd_rate(args, settings: Settings) -> int:
    service = _service(settings)
    try:
        stars = service.rate(args.user, args.movie, args.rating)
        report = service.update_model()
        path = service.save()
    finally:
        service.close()
    movie = service.movie(args.movie)
    print(
        inert(
            f"user {args.user} rated {movie.title} {stars:g} stars; model updated in {report.seconds:.2f} s and saved to {path}"
        )
    )
    return 0


def _cmd_ratings(args, settings: Settings) -> int:
    from tui_recommender.app.jobs import export_ratings
    from tui_recommender.app.service import report_lines

    if args.ratings_command == "export":
        export_ratings(settings, sys.stdout, args.format, _status)
        return 0
    service = _service(settings)
    try:
        plan = service.read_import(Path(args.file), args.user)
        if not args.dry_run:
            service.apply_import(plan)
            update = service.update_model()
            saved = service.save()
    finally:
        service.close()
    print("\n".join(inert(line) for line in report_lines(plan, stored=not args.dry_run)))
    if args.dry_run:
        print("dry run: nothing stored")
    if not args.dry_run and update.n_ratings:
        print(f"model updated in {update.seconds:.2f} s ({update.n_ratings} ratings) and saved to {saved}")
    return 0


def _cmd_data(args, settings: Settings) -> int:
    from tui_recommender.app.jobs import download_dataset

    folder = download_dataset(settings, args.name)
    print(f"{args.name} is in {folder}")
    return 0


def _cmd_completion(args, settings: Settings) -> int:
    import argcomplete

    print(argcomplete.shellcode([PROG], shell=args.shell), end="")
    return 0


_COMMANDS = {
    "train": _cmd_train,
    "evaluate": _cmd_evaluate,
    "recommend": _cmd_recommend,
    "rate": _cmd_rate,
    "ratings": _cmd_ratings,
    "data": _cmd_data,
    "completion": _cmd_completion,
}
