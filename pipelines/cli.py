"""`haetae audit`, `haetae quarantine decrypt`, `haetae pii scan` and `haetae dedup`."""

from __future__ import annotations

import argparse
import sys

AUDIT_EPILOG = """\
Runners: local (default: this machine, --workers processes, memory bounded by --memory-budget; the scored
records are spilled to the output's staging folder, so it needs free disk of about 2.5x the input),
DirectRunner (Beam's FnApiRunner: holds every shuffle in memory, for small inputs and tests), DaskRunner
(--dask_client_address tcp://HOST:8786), FlinkRunner (--flink_master HOST:8081 --environment_type=LOOPBACK),
SparkRunner (--spark_master_url spark://HOST:7077), DataflowRunner (--project P --region R --temp_location gs://...).
With a Beam runner every option haetae does not know is passed to Beam as a pipeline option.
"""


def _io_args(p: argparse.ArgumentParser, runner: str = "DirectRunner") -> None:
    p.add_argument("--text-field", default="text", help="field holding the document text (default: text)")
    p.add_argument("--id-field", default="id", help="field holding the document id (default: id)")
    p.add_argument("--runner", default=runner, help=f"runner (default: {runner})")


def register(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser(
        "audit", help="audit training documents: PII, copyright/licence, dedup, policy decisions, report",
        epilog=AUDIT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    audit.add_argument("inputs", nargs="+", metavar="INPUT", help="JSONL (.gz/.zst) or Parquet paths or globs")
    audit.add_argument("--out", required=True, help="output directory")
    audit.add_argument("--policy", default=None, help="data policy YAML (default: policies/data_policy.yaml)")
    audit.add_argument("--quiet", action="store_true", help="no progress on the terminal")
    audit.add_argument("--workers", type=int, default=None,
                       help="local runner: worker processes (default: one per core; none for inputs under 2 MiB)")
    audit.add_argument("--memory-budget", default=None, metavar="SIZE",
                       help="local runner: memory of all its processes together, e.g. 4GiB (default: 75%% of the "
                            "free memory); a run that would pass it stops with an error instead of swapping")
    _io_args(audit, runner="local")
    audit.set_defaults(func=run_audit_command, accepts_extra=True)

    quarantine = sub.add_parser("quarantine", help="read an audit's quarantine back")
    quarantine_sub = quarantine.add_subparsers(dest="quarantine_command", required=True, metavar="COMMAND")
    decrypt = quarantine_sub.add_parser(
        "decrypt", help="print the rows of DIR/quarantine as JSONL, raw lines decrypted (quarantine.raw: encrypt)")
    decrypt.add_argument("directory", metavar="DIR", help="the quarantine folder of an audit output")
    decrypt.add_argument("--key-file", default=None, help="Fernet key file (default: $HAETAE_QUARANTINE_KEY)")
    decrypt.set_defaults(func=_quarantine_decrypt)

    pii = sub.add_parser("pii", help="personal-data stage commands")
    pii_sub = pii.add_subparsers(dest="pii_command", required=True, metavar="COMMAND")
    scan = pii_sub.add_parser("scan", help="scan JSONL {id, text} for PII spans")
    scan.add_argument("input", metavar="IN.jsonl")
    scan.add_argument("--out", required=True, metavar="OUT.jsonl")
    scan.add_argument("--language", default="auto", help="auto (detect per record), ko, en, ...")
    _io_args(scan)
    scan.set_defaults(func=_pii_scan, accepts_extra=True)

    dedup = sub.add_parser("dedup", help="cluster exact and near-duplicate documents")
    dedup.add_argument("inputs", nargs="+", metavar="IN")
    dedup.add_argument("--out", required=True, metavar="DIR")
    dedup.add_argument("--policy", default=None, help="data policy YAML whose dedup.minhash section is used")
    _io_args(dedup)
    dedup.set_defaults(func=_dedup, accepts_extra=True)


def run_audit_command(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.errors import UsageError
    from haetae.pipelines.audit import run_audit

    try:
        summary = run_audit(
            args.inputs, args.out, policy_path=args.policy, text_field=args.text_field, id_field=args.id_field,
            runner=args.runner, beam_args=extra, progress=not args.quiet, workers=args.workers,
            memory_budget=args.memory_budget)
    except UsageError as exc:  # InputError, PolicyError, PiiConfigError, RightsConfigError, bad key files
        print(f"haetae audit: error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {summary.out_dir}/report.html")
    if not summary.ok:
        print("haetae audit: validation failed: " + "; ".join(summary.validation["failed"]), file=sys.stderr)
        return 1
    return 0


def _quarantine_decrypt(args: argparse.Namespace, extra: list[str] | None = None) -> int:
    from haetae.pipelines.quarantine import decrypt_command

    return decrypt_command(args.directory, args.key_file, sys.stdout)


def _pii_scan(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.pipelines.pii_job import run_pii_scan

    return run_pii_scan(args, extra)


def _dedup(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.pipelines.dedup_job import run_dedup

    return run_dedup(args, extra)
