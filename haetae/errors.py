"""One error taxonomy for every ``haetae`` command: what went wrong decides the exit code.

| exit | meaning                                                                            | raised as          |
|------|------------------------------------------------------------------------------------|--------------------|
| 0    | the job finished and every check passed                                            |                    |
| 1    | the job finished, its outputs are published, and a validation expectation failed   | (a result, not raised) |
| 2    | unusable input, output or configuration: nothing was published                     | :class:`UsageError` |
| 3    | interrupted, or an internal failure: the previous output is left as it was         | :class:`JobFailed` |

Every user-caused failure is a :class:`UsageError` whose message is one line naming the path and, where
there is one, the fix. ``haetae`` prints it without a traceback (``--debug`` shows one).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_VALIDATION_FAILED = 1
EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_INTERRUPTED = 130  # the shell's convention for SIGINT; reported as "interrupted"

EXIT_CODES_HELP = """\
exit codes: 0 ok; 1 validation failed (outputs published, _SUCCESS says so); 2 unusable input, output or
configuration (one line naming the path); 3 the job failed or was interrupted. On 2 and 3 the previous
output in --out is left as it was. --debug (anywhere on the line) shows tracebacks."""


class HaetaeError(Exception):
    """Base of every error ``haetae`` reports by exit code."""

    exit_code = EXIT_FAILED


class UsageError(HaetaeError, ValueError):
    """Unusable input, output or configuration (exit 2): one line naming the path."""

    exit_code = EXIT_USAGE


class JobFailed(HaetaeError, RuntimeError):
    """The job started and could not finish (exit 3); its partial work is marked, never published."""

    exit_code = EXIT_FAILED


def one_line(message: object) -> str:
    """``message`` folded to a single line (a multi-line cause would read as several errors)."""
    return " ".join(str(message).split())
