"""The worker process of the local multi-processing runner: Beam's SDK harness, quieter and quicker to stop.

:class:`haetae.pipelines.runners.options.DirectRunner` starts ``python -m haetae.pipelines.runners.worker`` where Beam
starts ``python -m apache_beam.runners.worker.sdk_worker_main``. The harness is Beam's own; two things differ:

- Beam's start-up notices are not printed: "apitools not found ..." (a warning logged while Beam's GCP modules
  are imported) and "Logging handler created." (logged at INFO before the job's log level applies); and the
  worker does not print its log records to its own stderr: they go to the runner only, as Beam intends.
- A failed bundle's traceback, which Beam's harness prints to its stderr as well as sending it to the runner
  (``SdkWorker._execute``), is not printed unless ``HAETAE_DEBUG=1`` (``haetae --debug`` sets it): the runner
  raises it in the driver, and ``haetae`` reports it as one line.
- Once the harness has stopped cleanly and its log handler is flushed, the process ends with ``os._exit``
  instead of tearing the interpreter down module by module. The runner stops its workers one after the
  other, so that tear-down (~0.4 s each) was paid once per worker at the end of every job.
"""

from __future__ import annotations

import logging
import os
import sys

_STARTUP_NOTICES = ("apitools not found", "Logging handler created")


class _DropStartupNotices(logging.Filter):
    """Drops Beam's two start-up notices (below ERROR); every other record passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or not str(record.msg).startswith(_STARTUP_NOTICES)


class _HideTracebacks:
    """stderr without the tracebacks the harness prints (each is one ``write`` starting "Traceback (")."""

    def __init__(self, stream):
        self._stream, self._skip_newline = stream, False

    def write(self, text: str) -> int:
        if text.startswith("Traceback (most recent call last)"):
            self._skip_newline = True
            return len(text)
        if self._skip_newline and text == "\n":
            self._skip_newline = False
            return len(text)
        self._skip_newline = False
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def main() -> None:
    if os.environ.get("HAETAE_DEBUG") != "1":
        sys.stderr = _HideTracebacks(sys.stderr)
    # The harness sends its log records to the runner (Fn API logging), which decides what to show. A handler
    # on the root logger keeps ``logging.warning`` (the GCP notice) from installing a stderr handler with
    # ``basicConfig`` that would print every record of the worker a second time.
    logging.getLogger().addHandler(logging.NullHandler())
    quiet = _DropStartupNotices()
    logging.getLogger().addFilter(quiet)  # the GCP notice is logged through the root logger
    logging.getLogger("apache_beam.runners.worker.sdk_worker_main").addFilter(quiet)
    from apache_beam.runners.worker import sdk_worker_main

    sdk_worker_main.main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
