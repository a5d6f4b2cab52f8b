"""`haetae audit`, `haetae quarantine decrypt`, `haetae pii scan`/`redact`, `haetae dedup`, `haetae license detect` and
`haetae registry`."""

from __future__ import annotations

import argparse
import sys

AUDIT_EPILOG = """\
Runners: local (default: this machine, --workers processes, memory bounded by --memory-budget; the scored
records are spilled to the output's staging folder, so it needs free disk of about 2.5x the input),
DirectRunner (Beam's FnApiRunner: holds every shuffle in memory, for small inputs and tests), DaskRunner
(--dask_client_address tcp://HOST:8786; runs the local runner's three phases as Beam pipelines, one input range
per task, on workers that share the output's filesystem; --beam-graph runs the whole Beam graph),
FlinkRunner (--flink_master HOST:8081 --environment_type=LOOPBACK), SparkRunner (--spark_master_url
spark://HOST:7077), DataflowRunner (--project P --region R --temp_location gs://...).
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
                            "free memory); a run that would pass it stops with an error instead of swapping. "
                            "DaskRunner: what the driver's dedup may use")
    audit.add_argument("--registry", default=None, metavar="REG",
                       help="protected-works registry (`haetae registry build`): each document's share of shingles "
                            "found there is in the ledger, and rights.registry of the policy decides (default: "
                            "rights.registry.path of the policy, if any)")
    audit.add_argument("--beam-graph", action="store_true",
                       help="DaskRunner: run the whole Beam graph (full records in its shuffles) instead of the "
                            "local runner's three phases as Beam pipelines (the default on Dask)")
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
    redact = pii_sub.add_parser(
        "redact", help="redact JSONL {id, text} with the policy's operators -> {id, text, entities, counts}",
        description="Redact every row's text with the data policy's per-entity operators (typed placeholders, "
                    "masks, keyed hashes, pseudonyms). Rows that cannot be read go to OUT.quarantine.jsonl.")
    redact.add_argument("input", metavar="IN.jsonl")
    redact.add_argument("--out", required=True, metavar="OUT.jsonl")
    redact.add_argument("--policy", default=None, help="data policy YAML (default: policies/data_policy.yaml)")
    redact.add_argument("--key-file", default=None,
                        help="key of keyed operators (default: pii.key of the policy, $HAETAE_PII_KEY)")
    redact.add_argument("--language", default="auto", help="auto (detect per record), ko, en, ...")
    _io_args(redact)
    redact.set_defaults(func=_pii_redact, accepts_extra=True)

    dedup = sub.add_parser("dedup", help="cluster exact and near-duplicate documents")
    dedup.add_argument("inputs", nargs="+", metavar="IN")
    dedup.add_argument("--out", required=True, metavar="DIR")
    dedup.add_argument("--policy", default=None, help="data policy YAML whose dedup.minhash section is used")
    _io_args(dedup)
    dedup.set_defaults(func=_dedup, accepts_extra=True)

    license_ = sub.add_parser("license", help="licence identification commands")
    license_sub = license_.add_subparsers(dest="license_command", required=True, metavar="COMMAND")
    detect = license_sub.add_parser(
        "detect", help="SPDX licence of every JSONL {id, text} row -> {id, spdx, score}",
        description="Identify the licences each row's text states (full texts, headers, pointers, short grants, "
                    "SPDX-License-Identifier lines, 공공누리 and Korean CC notices). spdx is an SPDX expression, "
                    "null when none is found; a row that cannot be read gets an error row.")
    detect.add_argument("input", metavar="IN.jsonl")
    detect.add_argument("--out", required=True, metavar="OUT.jsonl")
    detect.add_argument("--text-field", default="text", help="field holding the text (default: text)")
    detect.add_argument("--id-field", default="id", help="field holding the row id (default: id)")
    detect.set_defaults(func=_license_detect)
    _register_registry(sub)


def _register_registry(sub: argparse._SubParsersAction) -> None:
    reg = sub.add_parser("registry", help="protected-works registry: build it, check documents against it")
    reg_sub = reg.add_subparsers(dest="registry_command", required=True, metavar="COMMAND")
    build = reg_sub.add_parser(
        "build", help="index works a user must not train on as hashed shingles in a Bloom filter (no text kept)")
    build.add_argument("paths", nargs="+", metavar="PATH",
                       help="text files (one work each), JSONL/Parquet (one work per row; .gz/.zst too), directories")
    build.add_argument("--out", required=True, metavar="REG", help="registry file to write")
    build.add_argument("--fpr", type=float, default=0.001, help="false-positive rate per shingle (default 0.001)")
    build.add_argument("--unit", choices=["char", "word"], default="char",
                       help="shingle unit: char (normalised letters and digits) or word (default char)")
    build.add_argument("--ngram", type=int, default=None,
                       help="window length in units (default 50 characters, or 13 words)")
    build.add_argument("--capacity", type=int, default=None, metavar="N",
                       help="size the filter for N shingles up front instead of counting them in memory")
    build.add_argument("--text-field", default="text", help="field of JSONL/Parquet rows holding the text")
    build.set_defaults(func=_registry("build_command"))

    check = reg_sub.add_parser("check", help="per document, the fraction of its shingles found in the registry")
    check.add_argument("registry", metavar="REG")
    check.add_argument("input", metavar="IN.jsonl")
    check.add_argument("--out", required=True, metavar="OUT.jsonl",
                       help='rows {"id", "registry_fraction", "shingles", "found"}; {"id", "line", "error"}')
    check.add_argument("--text-field", default="text", help="field holding the document text (default: text)")
    check.add_argument("--id-field", default="id", help="field holding the document id (default: id)")
    check.set_defaults(func=_registry("check_command"))

    info = reg_sub.add_parser("info", help="print a registry's header (geometry, counts, rates) as JSON")
    info.add_argument("registry", metavar="REG")
    info.set_defaults(func=_registry("info_command"))


def _registry(name: str):
    def handler(args: argparse.Namespace, extra: list[str] | None = None) -> int:
        from haetae.pipelines.rights import registry

        return getattr(registry, name)(args, extra)

    return handler


def run_audit_command(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.errors import UsageError
    from haetae.pipelines.audit.job import run_audit

    try:
        summary = run_audit(
            args.inputs, args.out, policy_path=args.policy, text_field=args.text_field, id_field=args.id_field,
            runner=args.runner, beam_args=extra, progress=not args.quiet, workers=args.workers,
            memory_budget=args.memory_budget, registry=args.registry, beam_plan="graph" if args.beam_graph else None)
    except UsageError as exc:  # InputError, PolicyError, PiiConfigError, RightsConfigError, RegistryError, keys
        print(f"haetae audit: error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {summary.out_dir}/report.html")
    if not summary.ok:
        print("haetae audit: validation failed: " + "; ".join(summary.validation["failed"]), file=sys.stderr)
        return 1
    return 0


def _quarantine_decrypt(args: argparse.Namespace, extra: list[str] | None = None) -> int:
    from haetae.pipelines.audit.quarantine import decrypt_command

    return decrypt_command(args.directory, args.key_file, sys.stdout)


def _pii_scan(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.pipelines.commands.pii_scan import run_pii_scan

    return run_pii_scan(args, extra)


def _pii_redact(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.pipelines.commands.pii_redact import run_pii_redact

    return run_pii_redact(args, extra)


def _dedup(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.pipelines.commands.dedup import run_dedup

    return run_dedup(args, extra)


def _license_detect(args: argparse.Namespace, extra: list[str] | None = None) -> int:
    from haetae.pipelines.rights.licences import run_detect

    return run_detect(args.input, args.out, text_field=args.text_field, id_field=args.id_field)
