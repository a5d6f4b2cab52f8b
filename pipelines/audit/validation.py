"""Great Expectations checks on an audit's ledger and aggregates; results go to ``validation.json``.

Expectations (each failure makes ``haetae audit`` exit non-zero and is listed in the report):
- ledger: every row has a unique, non-null ``key``; ``decision`` is one of keep/redact/drop/quarantine;
- processed rows (not quarantined): ``id`` non-null, ``id_key`` (the id as JSON text) unique;
- kept rows: no redact-class PII left in the kept text (``residual_pii`` == 0, from the re-scan of every
  redacted text; texts kept unchanged had no redact-class PII by construction);
- reconciliation: records read = ledger rows = keep + redact + drop + quarantine;
- rates: duplicate rate and quarantine rate within the policy's ``validation`` limits.

The ledger is read column-wise (key, id, id_key, decision, residual_pii) from its Parquet shards.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from haetae.pipelines.io import records as R
from haetae.pipelines.policy.schema import Policy

VALIDATED_COLUMNS = ["key", "id", "id_key", "decision", "residual_pii"]  # columns of ledger.LedgerRow


def _lazy_module(name: str) -> None:
    """Import ``name`` on first attribute access instead of now (``importlib.util.LazyLoader``)."""
    import importlib.util
    import sys

    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)


def _context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    # Great Expectations imports scipy.stats (~0.6-1.2 s) at import time for distribution expectations the
    # audit never runs; it is loaded on first use instead.
    _lazy_module("scipy.stats")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return gx, ctx


def read_ledger(out_dir: str):
    import glob

    import pandas as pd
    import pyarrow.parquet as pq

    files = sorted(glob.glob(os.path.join(out_dir, "ledger", "*.parquet")))
    frames = [pq.read_table(f, columns=VALIDATED_COLUMNS).to_pandas() for f in files]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=VALIDATED_COLUMNS)


def _describe(result) -> dict[str, Any]:
    cfg = result.expectation_config
    kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("batch_id",)}
    observed = {k: v for k, v in (result.result or {}).items()
                if k in ("observed_value", "element_count", "unexpected_count", "unexpected_percent")}
    return {"expectation": cfg.type, "kwargs": kwargs, "success": bool(result.success), "observed": observed,
            "meta": cfg.meta or {}}


def validate_audit(out_dir: str, aggregates: dict[str, Any], policy: Policy) -> dict[str, Any]:
    """Run the suites and write ``validation.json``; returns its content."""
    import pandas as pd

    gx, ctx = _context()
    E = gx.expectations
    ledger = read_ledger(out_dir)
    processed = ledger[ledger["decision"] != R.QUARANTINE]
    kept = ledger[ledger["decision"].isin([R.KEEP, R.REDACT])]
    decisions = aggregates["decisions"]
    decided_total = sum(decisions.get(d, 0) for d in R.DECISIONS)
    decided_records = max(1, decided_total - decisions.get(R.QUARANTINE, 0))
    dup_dropped = sum(n for rule, n in aggregates["rules"].items() if rule.startswith("dedup."))
    limits = policy.section("validation")
    totals = pd.DataFrame([{
        "records_read": aggregates.get("input", 0),
        "ledger_rows": len(ledger),
        "decided_total": decided_total,
        "duplicate_rate": dup_dropped / decided_records,
        "quarantine_rate": decisions.get(R.QUARANTINE, 0) / max(1, decided_total),
    }])

    def note(text):
        return {"meta": {"notes": text}}

    suites = {
        "ledger": (ledger, [
            E.ExpectColumnValuesToNotBeNull(column="key", **note("every input line has a ledger row key")),
            E.ExpectColumnValuesToBeUnique(column="key", **note("one ledger row per input line")),
            E.ExpectColumnValuesToBeInSet(column="decision", value_set=list(R.DECISIONS),
                                          **note("decisions are keep, redact, drop or quarantine")),
        ]),
        "processed": (processed, [
            E.ExpectColumnValuesToNotBeNull(column="id", **note("processed records have ids")),
            E.ExpectColumnValuesToBeUnique(column="id_key", **note("ids are unique among processed records")),
        ]),
        "kept": (kept, [
            E.ExpectColumnValuesToBeBetween(column="residual_pii", min_value=0, max_value=0,
                                            **note("no redact-class PII left in kept text (re-scan)")),
        ]),
        "totals": (totals, [
            E.ExpectColumnPairValuesToBeEqual(column_A="records_read", column_B="decided_total",
                                              **note("records read = kept + dropped + quarantined")),
            E.ExpectColumnPairValuesToBeEqual(column_A="records_read", column_B="ledger_rows",
                                              **note("records read = ledger rows")),
            E.ExpectColumnValuesToBeBetween(column="duplicate_rate", min_value=0,
                                            max_value=limits.get("max_duplicate_rate", 1.0),
                                            **note("duplicate rate within policy")),
            E.ExpectColumnValuesToBeBetween(column="quarantine_rate", min_value=0,
                                            max_value=limits.get("max_quarantine_rate", 1.0),
                                            **note("quarantine rate within policy")),
        ]),
    }
    results: list[dict[str, Any]] = []
    for name, (frame, expectations) in suites.items():
        source = ctx.data_sources.add_pandas(f"audit_{name}")
        batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("all").get_batch(
            batch_parameters={"dataframe": frame.reset_index(drop=True)})
        suite = gx.ExpectationSuite(name=f"haetae_audit_{name}")
        for expectation in expectations:
            suite.add_expectation(expectation)
        outcome = batch.validate(suite)
        for res in outcome.results:
            results.append({"suite": name, **_describe(res)})
    report = {
        "success": all(r["success"] for r in results),
        "failed": [f"{r['suite']}: {r['meta'].get('notes', r['expectation'])}" for r in results if not r["success"]],
        "results": results,
        "totals": {k: (float(v) if isinstance(v, float) else int(v)) for k, v in totals.iloc[0].items()},
    }
    with open(os.path.join(out_dir, "validation.json"), "w", encoding="utf-8") as fh:
        json.dump(report, fh, ensure_ascii=False, indent=1, default=str)
    return report


class ValidationProcess:
    """Great Expectations imported in a process of its own while the job runs, so its 2-3 s of imports are
    off the driver's path (on a second core), then the suites run there: :meth:`validate` returns what
    :func:`validate_audit` returns. Should that process fail in any way, the suites run in this process (so
    their own errors are raised here as usual)."""

    def __init__(self):
        import subprocess
        import sys

        self._proc = subprocess.Popen(
            [sys.executable, "-m", "haetae.pipelines.audit.validation", "--serve"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "GX_ANALYTICS_ENABLED": "false"})

    def validate(self, out_dir: str, aggregates: dict[str, Any], policy: Policy) -> dict[str, Any]:
        import pickle

        result = None
        try:
            pickle.dump((out_dir, aggregates, policy), self._proc.stdin, protocol=5)
            self._proc.stdin.close()
            result = pickle.load(self._proc.stdout)
        except Exception:  # the process died or could not be reached: validate here
            result = None
        finally:
            self.close()
        if isinstance(result, dict):
            return result
        return validate_audit(out_dir, aggregates, policy)

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                self._proc.stdin.close()
                self._proc.wait(timeout=30)
            except Exception:
                self._proc.kill()
                self._proc.wait()


def _serve() -> int:
    """``python -m haetae.pipelines.audit.validation --serve``: import Great Expectations at the lowest CPU priority,
    read one pickled (out_dir, aggregates, policy) from stdin, write the pickled report (or None) to stdout."""
    import pickle
    import sys

    result_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # nothing a library prints can reach the result stream
    try:
        os.nice(19)
    except (AttributeError, OSError):
        pass
    try:
        _context()
        import pandas  # noqa: F401
    except Exception:
        pass
    try:
        request = pickle.load(sys.stdin.buffer)
    except Exception:  # the job ended before validation (an error, an interrupt)
        return 0
    try:
        report = validate_audit(*request)
    except Exception:
        report = None
    pickle.dump(report, result_out, protocol=5)
    result_out.flush()
    return 0


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--serve"]:
        sys.exit(_serve())
