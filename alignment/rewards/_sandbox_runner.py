"""Runs inside the sandbox process (``python -I``, stdlib only): limits first, then the program, then each test.

Reads the job (program, tests, limits, nonce) from the JSON file named on the command line and deletes it before
any untrusted code runs, so the program cannot read the nonce from disk. Limits are set with hard == soft, so the
program cannot raise them again. The result is one line, ``<nonce><json>``, written to a copy of stdout taken
before the program runs (the program may close or replace its own stdout), then the process ends at once with
``os._exit`` (no atexit handlers or threads of the program run after it).
"""

import json
import os
import resource
import signal
import sys


def _limit(kind: int, value: int) -> None:
    resource.setrlimit(kind, (value, value))


def main() -> None:
    job_path = sys.argv[1]
    with open(job_path, encoding="utf-8") as job_file:
        job = json.load(job_file)
    os.unlink(job_path)
    limits = job["limits"]
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_FSIZE, limits["file_size_bytes"])
    _limit(resource.RLIMIT_AS, limits["memory_bytes"])
    # Soft CPU limit -> SIGXCPU (terminates); the hard one a second later -> SIGKILL if SIGXCPU is caught.
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_s"], limits["cpu_s"] + 1))
    # Python ignores SIGXFSZ (a write past the limit would only raise OSError the program can swallow).
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    result_fd = os.dup(1)
    nonce = job["nonce"]
    passed: list[bool] = []
    limit = None
    namespace: dict = {"__name__": "__main__"}
    try:
        try:
            exec(compile(job["program"], "<program>", "exec"), namespace)  # noqa: S102
            program_ok = True
        except MemoryError:
            raise
        except BaseException:  # SyntaxError, an exception, sys.exit(): every test fails
            program_ok = False
        for test in job["tests"]:
            if not program_ok:
                passed.append(False)
                continue
            try:
                exec(compile(test, "<test>", "exec"), namespace)  # noqa: S102
                passed.append(True)
            except MemoryError:
                raise
            except BaseException:
                passed.append(False)
    except MemoryError:
        namespace = {}
        limit = "memory"
    line = nonce + json.dumps({"passed": passed, "limit": limit}) + "\n"
    os.write(result_fd, line.encode())
    os._exit(0)


if __name__ == "__main__":
    main()
