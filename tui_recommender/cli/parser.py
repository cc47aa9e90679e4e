"""The command line's grammar: every subcommand, option and help text, and the checks
that turn a bad argument into one line before any work starts."""

from __future__ import annotations

import argparse
from typing import NoReturn

from tui_recommender import __version__
from tui_recommender.config.settings import path_problem
from tui_recommender.core.ids import id_problem
from tui_recommender.core.text import LINE_CHARS, shorten

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
        raise argparse.ArgumentTypeError(f"{shorten(text)!r} {problem}")
    return int(text)


def _path(text: str) -> str:
    """A path the OS can take (see `config.path_problem`); checked before any work starts."""
    problem = path_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{shorten(text, LINE_CHARS, middle=True)!r} {problem}")
    return text


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shorten(text)!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{shorten(text)!r} must be 1 or more")
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
        help="dataset folder or GroupLens zip (any MovieLens release); default: one in the data root, downloaded if none",
    )
    options.add_argument(
        "--state-dir",
        metavar="DIR",
        type=_path,
        default=default,
        help="where your ratings, the fine-tuned model and the log file live",
    )
    options.add_argument(
        "--checkpoint", metavar="PATH", type=_path, default=default, help="a model checkpoint to start from (.npz)"
    )
    options.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0 if default is None else default,
        help="say what happens on stderr (-vv: debug detail); the log file records it either way",
    )
    return options


def _epilog() -> str:
    """The environment variables and where things are on this machine, resolved now."""
    from tui_recommender.config.settings import (
        ENV_PREFIX,
        ENVIRONMENT,
        LOG_NAME,
        default_config_file,
        default_data_root,
        default_state_dir,
    )

    width = max(len(ENV_PREFIX + name) for name in ENVIRONMENT)
    return "\n".join(
        [
            "environment (flags win over these, these over the config file):",
            *(f"  {ENV_PREFIX + name:<{width}}  {what}" for name, what in ENVIRONMENT.items()),
            "",
            "where things are here (from the environment and this machine's folders):",
            f"  data root     {default_data_root()}",
            f"  state folder  {default_state_dir()}  (ratings, fine-tuned models, {LOG_NAME})",
            f"  config file   {default_config_file()}",
        ]
    )


TRAINING_OPTION = "training option "  # + flag: where argparse keeps a training option's text


def _training_options(parser: argparse.ArgumentParser) -> None:
    """The flags of the `TrainConfig` fields the command line sets (app.training_options),
    kept as typed: they are parsed and checked there, in one place."""
    from tui_recommender.app.training_options import FLAGS, flag_help

    group = parser.add_argument_group("training options (each checked before any work starts)")
    for flag in FLAGS:
        metavar = flag[2:].upper().replace("-", "_")
        group.add_argument(flag, dest=TRAINING_OPTION + flag, metavar=metavar, help=flag_help(flag))


def build_parser() -> argparse.ArgumentParser:
    # Subcommands repeat the options with no default, so one given before the
    # subcommand is not reset to None by the subcommand's parser.
    common = _common_options(argparse.SUPPRESS)
    parser = _Parser(
        prog=PROG,
        parents=[_common_options(None)],
        description="Movie recommendations in your terminal, learned with LightGCN from every rating you type.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the epilog's lines as written
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = sub.add_parser("train", parents=[common], help="train a model on the dataset plus your stored ratings")
    train.add_argument(
        "--out", metavar="PATH", type=_path, help="checkpoint to write (default: the state dir's, which the app loads)"
    )
    train.add_argument("--json", action="store_true", help="print one JSON summary on stdout")
    train.add_argument(
        "--resume",
        action="store_true",
        help="go on from the last epoch of a training that stopped (its state is kept beside the checkpoint); give the same options",
    )
    _training_options(train)

    evaluate = sub.add_parser(
        "evaluate", parents=[common], help="train on the protocol's train split and report Recall/NDCG/Precision@10,20"
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    evaluate.add_argument(
        "--baselines", action="store_true", help="also most-popular and EASE on the same split, one row per model"
    )
    _training_options(evaluate)

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

    data = sub.add_parser("data", parents=[common], help="get datasets and see what the data folder holds")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True, parser_class=_Parser)
    download = data_sub.add_parser("download", parents=[common], help="download a MovieLens release into data/")
    # Not `choices=DATASET_NAMES`: importing `download` loads pandas before the app starts;
    # download() itself rejects an unknown name with the list.
    download.add_argument(
        "name",
        metavar="NAME",
        help="ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m, ml-latest-small, ml-latest, or ml-100k-mirror (built offline from PyPI)",
    )
    listing = data_sub.add_parser(
        "list", parents=[common], help="the datasets in data/: ratings, users, movies, years, matching checkpoint"
    )
    listing.add_argument("--json", action="store_true", help="print a JSON list on stdout")

    completion = sub.add_parser("completion", help="print the shell completion script (see README: Shell completion)")
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    return parser
