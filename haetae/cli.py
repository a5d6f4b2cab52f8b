"""The `haetae` console command. Each part of the project registers its own subcommands.

A part's module exposes ``register(subparsers)``; each subcommand sets ``func(args, extra) -> int`` via
``set_defaults``. Heavy imports belong inside the handlers so `haetae --help` stays fast. A handler that
accepts pass-through options (e.g. Beam pipeline options) sets ``accepts_extra=True``; for every other
command an unknown option is an error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from haetae import __version__
from haetae.errors import EXIT_CODES_HELP, EXIT_FAILED, EXIT_INTERRUPTED, HaetaeError, one_line
from haetae.offline import ensure_offline

PARTS = (
    "haetae.pipelines.commands.cli",
    "haetae.taxonomy.cli",
    "haetae.alignment.cli",
    "haetae.reports.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="haetae", description=__doc__.splitlines()[0], epilog=EXIT_CODES_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"haetae {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of failures")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in PARTS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that part has no commands yet
                continue
            raise
        module.register(sub)
    _add_exit_codes(sub)
    return parser


def _add_exit_codes(sub: argparse._SubParsersAction) -> None:
    """Every subcommand's --help ends with the exit codes."""
    for command in sub.choices.values():
        command.epilog = f"{command.epilog.rstrip()}\n\n{EXIT_CODES_HELP}" if command.epilog else EXIT_CODES_HELP
        command.formatter_class = argparse.RawDescriptionHelpFormatter
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                _add_exit_codes(action)


class _QuietImportWarnings(logging.Filter):
    """Hide Beam's import-time notice about optional GCP client libraries."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("great_expectations") and record.levelno < logging.WARNING:
            return False  # e.g. its ephemeral context's "Created temporary directory" notice
        return "apitools not found" not in record.getMessage()


def _setup_logging(debug: bool = False) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_QuietImportWarnings())
    for name in ("apache_beam", "great_expectations", "distributed", "presidio-analyzer"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Beam forwards its workers' own start-up notices; they are not about the job.
    # and, when a worker fails, its traceback (the failure reaches the user as one line; --debug shows it).
    logging.getLogger("apache_beam.runners.portability.local_job_service").setLevel(
        logging.ERROR if debug else logging.CRITICAL)


def main(argv: list[str] | None = None) -> int:
    ensure_offline()
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # accepted anywhere on the line, also after the subcommand
    _setup_logging(debug)
    if debug:
        os.environ["HAETAE_DEBUG"] = "1"  # Beam worker processes print their tracebacks too
    parser = build_parser()
    args, extra = parser.parse_known_args([a for a in argv if a != "--debug"])
    args.debug = debug
    if extra and not getattr(args, "accepts_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    name = " ".join(a for a in (args.command, *_subcommand(args)) if a)
    try:
        return int(args.func(args, extra) or 0)
    except KeyboardInterrupt:
        print(f"haetae {name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except HaetaeError as exc:
        if args.debug:
            raise
        print(f"haetae {name}: error: {one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # an internal failure: one line, the traceback on --debug
        if args.debug:
            raise
        print(f"haetae {name}: internal error: {type(exc).__name__}: {one_line(exc)} (rerun with --debug "
              "for the traceback)", file=sys.stderr)
        return EXIT_FAILED


def _subcommand(args: argparse.Namespace) -> list[str]:
    """The sub-subcommand words (``pii scan``, ``model init``) for messages."""
    return [v for k, v in vars(args).items() if k.endswith("_command") and isinstance(v, str)]


if __name__ == "__main__":
    sys.exit(main())
