"""One function per subcommand: each takes the parsed arguments and the resolved settings,
does its job through the app layer, prints its result and returns the exit code."""

from __future__ import annotations

import contextlib
import json
import math
import sys
from pathlib import Path

from tui_recommender.cli.output import inert, status
from tui_recommender.cli.parser import EXIT_USER_ERROR, PROG, TRAINING_OPTION
from tui_recommender.config.settings import Settings
from tui_recommender.core.errors import DistributedError, UserError


def _progress(quiet: bool, what: str = "training"):
    """Training progress on stderr (see `progress`); none for `--json` into a pipe."""
    from tui_recommender.app.progress import EpochProgress

    if quiet and not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    return EpochProgress(what)


def _train_config(args, settings: Settings):
    """The training recipe of the training options given (`app.training_options`); without
    `--device`, the settings' device (environment, then config file) if they name one."""
    from tui_recommender.app.training_options import train_config

    given = {
        name[len(TRAINING_OPTION) :]: text for name, text in vars(args).items() if name.startswith(TRAINING_OPTION)
    }
    given = {flag: text for flag, text in given.items() if text is not None}
    if "--device" not in given and settings.device is not None:
        given["--device"] = settings.device
    return train_config(given)


def _reading():
    """A first parse's progress on stderr, also with `--json` (stdout keeps the result)."""
    from tui_recommender.app.read_progress import ReadProgress

    return ReadProgress()


def _cmd_train(args, settings: Settings) -> int:
    from tui_recommender.app.jobs import is_primary_process, train_model

    config = _train_config(args, settings)
    primary = is_primary_process()  # under torchrun, rank 0 alone prints
    try:
        progress = _progress(args.json) if primary else contextlib.nullcontext(None)
        with progress as on_epoch, _reading() if primary else contextlib.nullcontext(None) as on_read:
            out = Path(args.out) if args.out else None
            report = train_model(settings, config, out, on_epoch, status if primary else None, on_read, args.resume)
    except DistributedError:
        raise  # each rank says which one it is and that it stopped
    except UserError:
        if primary:
            raise
        return EXIT_USER_ERROR  # every rank meets the same error: rank 0 tells it
    if not primary:
        return 0
    result = report.result
    summary = {
        "dataset": report.dataset,
        "checkpoint": str(report.checkpoint),
        "positives": report.positives,
        **result.summary(),
        "hyperparameters": result.config.hyperparameters(),
        "device": result.config.device,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        chosen = (
            f"early stopping chose {summary['best_epoch']} of {summary['validation_epochs']}), "
            f"validation Recall@20 {result.val_metrics.get('recall@20', float('nan')):.4f}"
            if summary["validation_epochs"]
            else "on every rating, too few epochs for early stopping to choose from)"
        )
        print(
            f"trained {summary['epochs']} epochs ({summary['seconds_per_epoch']:.3f} s/epoch; {chosen}; wrote {report.checkpoint}"
        )
    return 0


def _cmd_evaluate(args, settings: Settings) -> int:
    from tui_recommender.app.jobs import evaluate_model

    config = _train_config(args, settings)
    with _progress(args.json) as on_epoch, _reading() as on_read:
        report = evaluate_model(settings, config, on_epoch, status, on_read, args.baselines)
    if args.json:
        print(json.dumps(report))
    elif args.baselines:
        from tui_recommender.cli.evaluation_table import table_lines

        print("\n".join(inert(line) for line in table_lines(report)))
    else:
        m = report["metrics"]
        print(
            f"{report['dataset']}: {report['test_users']} test users, {report['test_positives']} test positives, trained in {report['train_seconds']:.1f} s"
        )
        for k in (10, 20):
            print(
                f"  @{k}: Recall {m[f'recall@{k}']:.4f}  NDCG {m[f'ndcg@{k}']:.4f}  Precision {m[f'precision@{k}']:.4f}"
            )
        print(f"  hyperparameters: {json.dumps(report['hyperparameters'])}; device {report['device']}")
    return 0


def _service(settings: Settings):
    from tui_recommender.app.service import RecommenderService

    with _progress(False, "training a model for this data") as on_epoch, _reading() as on_read:
        return RecommenderService.open(settings, on_warning=status, on_epoch=on_epoch, on_read=on_read)


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
                        "rank": r.rank,
                        "movieId": r.movie.movie_id,
                        "title": r.movie.title,
                        "year": r.movie.year,
                        "genres": list(r.movie.genres),
                        "score": math.floor(r.score * 100 + 1e-6)
                        / 100,  # down, as `score_text`: never above the one before
                        "because": r.because,
                    }
                    for r in recs
                ]
            )
        )
    else:
        for r in recs:
            year = f" ({r.movie.year})" if r.movie.year else ""
            print(inert(f"{r.rank:>3}. {r.movie.title}{year}  [{', '.join(r.movie.genres) or '-'}]  {r.score_text}"))
    return 0


def _config_genres(settings: Settings, service) -> tuple[str, ...]:
    """The config file's genres that this dataset has; the others are named on stderr."""
    from tui_recommender.config.user_file import known_genres

    genres, unknown = known_genres(settings.genres, [genre for genre, _ in service.genre_counts()])
    if unknown:
        status(
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
    if report.discarded:
        learnt = report.DISCARDED
    elif report.n_ratings == 0:  # the stored rating was taken as learnt already: a fault to see
        learnt = "nothing new learnt"
    else:  # milliseconds: the update takes a few
        learnt = f"model updated in {report.seconds * 1000:.0f} ms"
    print(inert(f"user {args.user} rated {movie.title} {stars:g} stars; {learnt} and saved to {path}"))
    return 0


def _cmd_ratings(args, settings: Settings) -> int:
    from tui_recommender.app.jobs import export_ratings
    from tui_recommender.app.service import report_lines

    if args.ratings_command == "export":
        export_ratings(settings, sys.stdout, args.format, status)
        return 0
    if args.dry_run:
        from tui_recommender.app.jobs import preview_import

        with _reading() as on_read:
            plan = preview_import(settings, Path(args.file), args.user, status, on_read)
        print("\n".join(inert(line) for line in report_lines(plan, stored=False)))
        print("dry run: nothing stored")
        return 0
    service = _service(settings)
    try:
        plan = service.read_import(Path(args.file), args.user)
        service.apply_import(plan)
        update = service.update_model()
        saved = service.save()
    finally:
        service.close()
    print("\n".join(inert(line) for line in report_lines(plan, stored=True)))
    if update.n_ratings:
        learnt = update.DISCARDED if update.discarded else f"model updated in {update.seconds:.2f} s"
        print(f"{learnt} ({update.n_ratings} ratings) and saved to {saved}")
    return 0


def _cmd_data(args, settings: Settings) -> int:
    if args.data_command == "list":
        return _data_list(args, settings)
    from tui_recommender.app.jobs import download_dataset

    folder = download_dataset(settings, args.name)
    print(f"{args.name} is in {folder}")
    return 0


def _data_list(args, settings: Settings) -> int:
    from tui_recommender.app.datasets import data_root_entries
    from tui_recommender.app.read_progress import ReadProgress

    entries = data_root_entries(settings, lambda name: ReadProgress(f"reading {name}"), status)
    if args.json:
        print(json.dumps([entry.to_dict() for entry in entries]))
        return 0
    if not entries:
        print(f"no dataset in {settings.data_root} (see: {PROG} data download NAME)")
    for entry in entries:
        print(inert(_data_line(entry)))
    return 0


def _data_line(entry) -> str:
    summary = entry.summary
    if summary is None:
        return f"{entry.path.name}  cannot be read: {entry.problem}"
    model = f"checkpoint {entry.checkpoint}" if entry.checkpoint else "no matching checkpoint"
    years = (
        f"{summary.first_year}"
        if summary.first_year == summary.last_year
        else f"{summary.first_year}-{summary.last_year}"
    )
    return (
        f"{summary.name}  {summary.ratings:,} ratings, {summary.users:,} users, {summary.movies:,} movies,"
        f" rated {years}  ({summary.layout} layout, {entry.path}; {model})"
    )


def _cmd_completion(args, settings: Settings) -> int:
    import argcomplete

    print(argcomplete.shellcode([PROG], shell=args.shell), end="")
    return 0


COMMANDS = {
    "train": _cmd_train,
    "evaluate": _cmd_evaluate,
    "recommend": _cmd_recommend,
    "rate": _cmd_rate,
    "ratings": _cmd_ratings,
    "data": _cmd_data,
    "completion": _cmd_completion,
}
