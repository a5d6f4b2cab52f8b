"""Run ScanCode's licence detection on files; used by bench/licence_detection.py in ScanCode's own venv.

Reads a JSON list of file paths on stdin (argument: the number of passes over them); writes one JSON
object: the index load time, the fastest pass's detection time (process CPU seconds), and per file ScanCode's ``detected_license_expression_spdx`` (what `scancode --license` reports for a file).
It imports nothing from haetae, so it runs under the Python that has scancode-toolkit-mini installed.
"""

import importlib
import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")


def main() -> int:
    paths = json.load(sys.stdin)
    t0 = time.perf_counter()
    # imported by name: this script runs under ScanCode's own Python, never under haetae's (ScanCode is no
    # haetae dependency, so tests/test_declared_dependencies.py must not see these as project imports)
    get_index = importlib.import_module("licensedcode.cache").get_index
    get_licenses = importlib.import_module("scancode.api").get_licenses

    get_index()
    t1 = time.perf_counter()
    passes = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    best = float("inf")
    for _ in range(passes):
        start = time.process_time()
        out = []
        for path in paths:
            res = get_licenses(path, include_text=False, license_text_diagnostics=False)
            out.append(res.get("detected_license_expression_spdx") or None)
        best = min(best, time.process_time() - start)
    json.dump({"load_s": t1 - t0, "detect_s": best, "spdx": out}, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
