# PYTHON_ARGCOMPLETE_OK (argcomplete's global completion looks for this marker)
"""The command line: `tui-recommender` opens the app; subcommands train, evaluate,
recommend, rate, manage stored ratings, fetch data and print shell completion scripts.
Errors a user can cause print one line on stderr and exit with code 2.

The grammar is in `parser`, each subcommand's work in `commands`, terminal output in `output`,
streams that cannot crash in `streams`; this module is the entry point: parse, resolve the
settings, dispatch, turn errors into lines."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from tui_recommender.cli.commands import COMMANDS
from tui_recommender.cli.output import inert
from tui_recommender.cli.parser import EXIT_USER_ERROR, PROG, build_parser
from tui_recommender.cli.streams import OutputError, PipeClosed, closed_standard_fds, discard_stdout, safe_streams
from tui_recommender.config.settings import Settings
from tui_recommender.core.errors import UserError


def main(argv: Sequence[str] | None = None) -> int:
    closed = [name for name in closed_standard_fds() if name != "stdin"]
    if closed:
        # Nothing runs blind: without stderr no error could be told, without stdout no result.
        print(f"{PROG}: {' and '.join(closed)} closed; run again with it open", file=sys.stderr)
        return EXIT_USER_ERROR
    with safe_streams():
        try:
            try:
                args = _parse(argv)
                if args.command is not None:
                    return _guarded(lambda: COMMANDS[args.command](args, _settings(args)))
            finally:
                sys.stdout.flush()
        except PipeClosed:
            discard_stdout()
            return 0
        except OutputError as error:
            discard_stdout()
            print(f"{PROG}: {error}", file=sys.stderr)
            return EXIT_USER_ERROR
    # The app owns the terminal: it runs on the process's own streams.
    return _guarded(lambda: _run_app(_settings(args)))


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # a shell asks for completions: argcomplete answers and exits
        import argcomplete

        argcomplete.autocomplete(parser)
    return parser.parse_args(argv)


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.resolve(data=args.data, state_dir=args.state_dir, checkpoint=args.checkpoint)


def _run_app(settings: Settings) -> int:
    # Interactive use: torch loads later (lazily); its idle OpenMP threads should then
    # sleep, not spin, or a fine-tune runs 2-10x slower whenever anything else wants a
    # core. Batch training keeps spinning threads, ~30% faster on an idle machine.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from tui_recommender.tui.app import run_app

    return run_app(settings)


def _guarded(job: Callable[[], int]) -> int:
    """`job()`'s exit code; an error the user can cause is one line on stderr and code 2."""
    try:
        return job()
    except (PipeClosed, OutputError):
        raise
    except UserError as error:
        print(f"{PROG}: {inert(str(error))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
