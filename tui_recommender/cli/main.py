# PYTHON_ARGCOMPLETE_OK (argcomplete's global completion looks for this marker)
"""The command line: `tui-recommender` opens the app; subcommands train, evaluate,
recommend, rate, manage stored ratings, fetch data and print shell completion scripts.
Errors a user can cause print one line on stderr and exit with code 2.

The grammar is in `parser`, each subcommand's work in `commands`, terminal output in `output`;
this module is the entry point: parse, resolve the settings, dispatch, turn errors into lines."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from tui_recommender.cli.commands import COMMANDS
from tui_recommender.cli.output import inert
from tui_recommender.cli.parser import EXIT_USER_ERROR, build_parser
from tui_recommender.config.settings import Settings
from tui_recommender.core.errors import UserError


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
        return COMMANDS[args.command](args, settings)
    except UserError as error:
        print(f"tui-recommender: {inert(str(error))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("tui-recommender: interrupted", file=sys.stderr)
        return 130
