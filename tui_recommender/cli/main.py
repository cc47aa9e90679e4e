# PYTHON_ARGCOMPLETE_OK (argcomplete's global completion looks for this marker)
"""The command line: `tui-recommender` opens the app; subcommands train, evaluate,
recommend, rate, manage stored ratings, fetch data and print shell completion scripts.
Errors a user can cause print one line on stderr and exit with code 2.

The grammar is in `parser`, each subcommand's work in `commands`, terminal output in `output`,
streams that cannot crash in `streams`, the log in `logs`; this module is the entry point:
parse, set up the log, resolve the settings, dispatch, turn errors into lines."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence

from tui_recommender.cli.commands import COMMANDS
from tui_recommender.cli.logs import SHOWN, close_logging, configure_logging, log_start
from tui_recommender.cli.output import inert, status
from tui_recommender.cli.parser import EXIT_USER_ERROR, PROG, build_parser
from tui_recommender.cli.streams import OutputError, PipeClosed, closed_standard_fds, discard_stdout, safe_streams
from tui_recommender.config.settings import Settings, default_config_file, log_file_for
from tui_recommender.core.errors import DataError, UserError
from tui_recommender.core.text import shorten_path

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    closed = [name for name in closed_standard_fds() if name != "stdin"]
    try:
        return _main(argv, started, closed)
    finally:
        close_logging()  # in-process callers (tests) get the logging they had


def _main(argv: Sequence[str] | None, started: float, closed: list[str]) -> int:
    with safe_streams():
        try:
            try:
                args = _parse(argv)
                log_file = log_file_for(args.state_dir)
                if getattr(args, "dry_run", False) and not log_file.parent.exists():
                    log_file = None  # a dry run creates nothing, not even the state folder for its log
                configure_logging(args.verbose, log_file, to_stderr=args.command is not None)
                log_start(sys.argv[1:] if argv is None else argv)
                if closed:
                    # Nothing runs blind: without stderr no error could be told, without stdout
                    # no result. The line goes where it can: stderr if open, the log file.
                    _tell(f"{' and '.join(closed)} closed; run again with it open")
                    return EXIT_USER_ERROR
                if args.command is not None:
                    return _guarded(lambda: COMMANDS[args.command](args, _checked(_settings(args))), started)
            finally:
                sys.stdout.flush()
        except PipeClosed:
            logger.info("stdout's reader stopped early (a pager, `head`): done")
            discard_stdout()
            return 0
        except OutputError as error:
            discard_stdout()
            _tell(str(error))
            return EXIT_USER_ERROR
    # The app owns the terminal: it runs on the process's own streams.
    return _guarded(lambda: _run_app(_settings(args)), started)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # a shell asks for completions: argcomplete answers and exits
        import argcomplete

        argcomplete.autocomplete(parser)
    return parser.parse_args(argv)


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.resolve(data=args.data, state_dir=args.state_dir, checkpoint=args.checkpoint)
    logger.info(
        "paths: data %s; data root %s; state folder %s; checkpoint %s; config file %s",
        settings.data.absolute() if settings.data else "(the default in the data root)",
        settings.data_root.absolute(),
        settings.state_dir.absolute(),
        settings.checkpoint.absolute() if settings.checkpoint else "(the automatic choice)",
        settings.config_file or f"{default_config_file()} (absent)",
    )
    return settings


def _checked(settings: Settings) -> Settings:
    """`settings` once the config file's theme and keys are checked as the app checks them
    (a `ConfigError`, or a line on stderr per key clash); the app checks them itself."""
    if settings.theme is not None or settings.keymap:
        from tui_recommender.tui.app import RecommenderApp
        from tui_recommender.tui.config_check import check_config_file

        for line in check_config_file(settings, RecommenderApp):
            status(f"tui-recommender: {line}")
    return settings


def _run_app(settings: Settings) -> int:
    # Interactive use: torch loads later (lazily); its idle OpenMP threads should then
    # sleep, not spin, or a fine-tune runs 2-10x slower whenever anything else wants a
    # core. Batch training keeps spinning threads, ~30% faster on an idle machine.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from tui_recommender.tui.app import run_app

    data = settings.data
    if data is not None and not (data.is_dir() or data.suffix.lower() == ".zip"):  # said before the screen opens
        why = "is a file, not a folder or a .zip" if data.exists() else "does not exist"
        raise DataError(f"dataset folder {shorten_path(data)} {why}")
    return run_app(settings)


def _guarded(job: Callable[[], int], started: float) -> int:
    """`job()`'s exit code; an error the user can cause is one line on stderr and code 2.
    The log records the outcome, and an unexpected error's traceback before it propagates."""
    try:
        code = job()
    except (PipeClosed, OutputError):
        raise
    except UserError as error:
        _tell(inert(str(error)))
        code = EXIT_USER_ERROR
    except KeyboardInterrupt:
        _tell("interrupted")
        code = 130
    except Exception:
        logger.exception("unexpected error (a bug: please report it with this log)")
        raise
    logger.info("exit %d after %.2f s", code, time.perf_counter() - started)
    return code


def _tell(message: str) -> None:
    """One error line on stderr, recorded in the log too."""
    print(f"{PROG}: {message}", file=sys.stderr)
    logger.error("%s", message, extra={SHOWN: True})
