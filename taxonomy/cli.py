"""`haetae taxonomy validate|stats|export` and `haetae safety generate|gate`."""

from __future__ import annotations

import argparse
import json
import sys

TAXONOMY_HELP = "taxonomy folder with manifest.yaml, or a manifest file (default: the shipped K-AUT-style taxonomy)"


def _taxonomy_args(p: argparse.ArgumentParser, positional: bool = True) -> None:
    if positional:
        p.add_argument("dir", nargs="?", default=None, metavar="DIR", help=TAXONOMY_HELP)
    p.add_argument("--national", default=None, metavar="FILE",
                   help="replace the national domain with this country file (e.g. taxonomy/data/countries/de/national.yaml)")


def register(sub: argparse._SubParsersAction) -> None:
    tax = sub.add_parser("taxonomy", help="validate, summarise and export the AI-risk taxonomy")
    tax_sub = tax.add_subparsers(dest="taxonomy_command", required=True, metavar="COMMAND")

    validate = tax_sub.add_parser("validate", help="schema, unique ids, 5 criteria, area counts, near-duplicate areas")
    _taxonomy_args(validate)
    validate.add_argument("--no-near-duplicates", action="store_true", help="skip the MinHash near-duplicate check")
    validate.add_argument("--strict", action="store_true", help="treat warnings as errors")
    validate.set_defaults(func=_validate)

    stats = tax_sub.add_parser("stats", help="areas, criteria and severities per domain")
    _taxonomy_args(stats)
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(func=_stats)

    export = tax_sub.add_parser("export", help="committee-readable Markdown or HTML (Korean and English)")
    _taxonomy_args(export)
    export.add_argument("--format", choices=("md", "html"), default="md")
    export.add_argument("--out", required=True, metavar="FILE")
    export.set_defaults(func=_export)

    safety = sub.add_parser("safety", help="taxonomy-driven safety data and the release gate")
    safety_sub = safety.add_subparsers(dest="safety_command", required=True, metavar="COMMAND")
    gen = safety_sub.add_parser(
        "generate", help="eval, red-team, SFT, preference and over-refusal contrast sets from the hand-written seeds",
        description="Generate safety training and evaluation data from a taxonomy's hand-written seeds (areas "
                    "without seeds are skipped and counted). Outputs OUT/eval.jsonl, train_redteam.jsonl, "
                    "train_sft.jsonl, preference.jsonl, contrast.jsonl, dropped.jsonl, manifest.json, coverage.html.")
    gen.add_argument("--taxonomy", default=None, metavar="DIR", help=TAXONOMY_HELP)
    _taxonomy_args(gen, positional=False)
    gen.add_argument("--languages", default="ko,en,es,de,ja,vi", help="comma-separated (default: ko,en,es,de,ja,vi)")
    gen.add_argument("--holdout-areas", default="auto", metavar="IDS",
                     help="areas held out whole for evaluation: comma-separated ids, 'auto' (default: one or two "
                          "seeded areas per domain) or 'none'")
    gen.add_argument("--adversarial-rate", type=float, default=None, metavar="R",
                     help="at most this share of a language's eval seeds is mutated (default: ItemConfig's)")
    gen.add_argument("--adversarial-per-family", type=int, default=None, metavar="N",
                     help="mutated eval items per attack family and language, within --adversarial-rate "
                          "(default: ItemConfig's; 0 uses exactly --adversarial-rate)")
    gen.add_argument("--multi-turn-rate", type=float, default=None, metavar="R",
                     help="3-8 turn escalation eval items per eval seed (default: ItemConfig's)")
    gen.add_argument("--train-mutated-rate", type=float, default=None, metavar="R",
                     help="mutated training items per train seed (default: ItemConfig's)")
    gen.add_argument("--group-size", type=int, default=3, metavar="G",
                     help="responses per preference group (2..4, default 3); every member is a real response, so "
                          "groups hold at most 3 and a larger G is counted in manifest.json, not padded")
    gen.add_argument("--out", required=True, metavar="DIR")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--audit", choices=("pipeline", "inline", "off"), default="pipeline",
                     help="pipeline: the Beam data-audit job (default); inline: same PII rules in-process; off")
    gen.add_argument("--parquet", action="store_true", help="also write each split as Parquet")
    gen.add_argument("--backend", choices=("template", "openai"), default="template")
    gen.add_argument("--base-url", default=None,
                     help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1; $OPENAI_API_KEY goes to this "
                          "origin only (redirects are refused, not followed)")
    gen.add_argument("--model", default=None)
    gen.add_argument("--timeout", type=float, default=60.0,
                     help="seconds per request, connect to last byte (openai backend)")
    gen.add_argument("--max-retries", type=int, default=4)
    gen.add_argument("--rate-limit", type=float, default=None, metavar="RPS", help="max requests per second")
    gen.add_argument("--workers", type=int, default=4, help="concurrent requests (openai backend)")
    gen.add_argument("--cache-dir", default=None, help="response cache (default: OUT/_cache for the openai backend)")
    gen.add_argument("--allow-insecure-http", action="store_true",
                     help="send $OPENAI_API_KEY over plain http:// to a host that is not loopback (anyone on the "
                          "path can read it; without this flag that is refused before any request)")
    gen.set_defaults(func=_generate)

    gate = safety_sub.add_parser(
        "gate", help="check a run's metrics.json against the release gate (exit 1 when a rule fails)",
        description="Check an evaluation's metrics.json against the release gate: minimum safe rate overall and per "
                    "domain, maximum over-refusal, minimum judge coverage, maximum confidence-interval width. "
                    "Prints every rule PASS/FAIL with its numbers; exits 0 when all pass, 1 when any fails.")
    gate.add_argument("metrics", metavar="METRICS.json", help="metrics.json of an evaluation run")
    gate.add_argument("--gate", default=None, metavar="FILE",
                      help="gate policy YAML (default: the shipped policies/safety_gate.yaml)")
    gate.set_defaults(func=_gate)

    from haetae.reports.safety_cli import register as register_eval_and_judge

    register_eval_and_judge(safety_sub)


def _load(args: argparse.Namespace, path: str | None):
    from haetae.taxonomy.loader import TaxonomyError, load_taxonomy

    try:
        return load_taxonomy(path, national=args.national)
    except TaxonomyError as exc:
        print(f"haetae taxonomy: {exc}", file=sys.stderr)
        return None


def _validate(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.taxonomy.checks import run_checks
    from haetae.taxonomy.export import format_stats, stats

    taxonomy = _load(args, args.dir)
    if taxonomy is None:
        return 1
    report = run_checks(taxonomy, near_duplicates=not args.no_near_duplicates)
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if report.errors:
        print(f"haetae taxonomy: {len(report.errors)} error(s):", file=sys.stderr)
        for err in report.errors:
            print(f"  {err}", file=sys.stderr)
        return 1
    if args.strict and report.warnings:
        print(f"haetae taxonomy: {len(report.warnings)} warning(s) with --strict", file=sys.stderr)
        return 1
    print("OK " + format_stats(stats(taxonomy)))
    return 0


def _stats(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.taxonomy.export import format_stats, stats

    taxonomy = _load(args, args.dir)
    if taxonomy is None:
        return 1
    s = stats(taxonomy)
    print(json.dumps(s, ensure_ascii=False, indent=2) if args.json else format_stats(s))
    return 0


def _export(args: argparse.Namespace, extra: list[str]) -> int:
    from pathlib import Path

    from haetae.taxonomy.export import to_html, to_markdown

    taxonomy = _load(args, args.dir)
    if taxonomy is None:
        return 1
    text = to_html(taxonomy) if args.format == "html" else to_markdown(taxonomy)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(taxonomy.areas)} areas)")
    return 0


def _generate(args: argparse.Namespace, extra: list[str]) -> int:
    from pathlib import Path

    from haetae.taxonomy.backends import BackendError, make_backend
    from haetae.taxonomy.contrast import ContrastError
    from haetae.taxonomy.generate import GenerateConfig, generate
    from haetae.taxonomy.items import ItemConfig
    from haetae.taxonomy.seeds import SeedError

    languages = tuple(x.strip() for x in args.languages.split(",") if x.strip())
    holdout = args.holdout_areas.strip()
    holdout_areas = None if holdout == "auto" else () if holdout == "none" else \
        tuple(x.strip() for x in holdout.split(",") if x.strip())
    try:
        rates = {k: getattr(args, k) for k in ("adversarial_rate", "multi_turn_rate", "train_mutated_rate",
                                                "adversarial_per_family") if getattr(args, k) is not None}
        if rates.get("adversarial_per_family") == 0:
            rates["adversarial_per_family"] = None
        items = ItemConfig(languages=languages, seed=args.seed, holdout_areas=holdout_areas, **rates)
        cfg = GenerateConfig(items=items, group_size=args.group_size, audit=args.audit, parquet=args.parquet,
                             workers=args.workers)
        if not 2 <= args.group_size <= 4:
            raise ValueError(f"--group-size must be 2..4, got {args.group_size}")
    except ValueError as exc:
        print(f"haetae safety generate: {exc}", file=sys.stderr)
        return 2
    taxonomy = _load(args, args.taxonomy)
    if taxonomy is None:
        return 1
    known = {a.id for a in taxonomy.areas}
    unknown = sorted(set(holdout_areas or ()) - known)
    if unknown:
        print(f"haetae safety generate: --holdout-areas: not in the taxonomy: {', '.join(unknown)}", file=sys.stderr)
        return 2
    # A bad --base-url, model or key is a UsageError (exit 2) raised here, before any request.
    backend = make_backend(
        args.backend, base_url=args.base_url, model=args.model, timeout=args.timeout,
        max_retries=args.max_retries, requests_per_second=args.rate_limit,
        cache_dir=args.cache_dir or str(Path(args.out) / "_cache"), allow_insecure_http=args.allow_insecure_http,
    ) if args.backend == "openai" else make_backend("template")
    from haetae.pipelines.runners.execution import job_output

    try:
        settings = {"languages": list(languages), "holdout_areas": args.holdout_areas, "seed": args.seed,
                    "backend": backend.name, "audit": args.audit}
        with job_output("safety generate", args.out, entries=None, config=settings) as job:
            manifest = generate(taxonomy, job.dir, cfg, backend)
            job.counts = manifest["counts"]
    except BackendError:
        raise  # a JobFailed: exit 3 through `haetae`'s handler, without importing the audit's errors below
    except (SeedError, ContrastError) as exc:
        print(f"haetae safety generate: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # configuration errors of the audit step (policy, PII or rights config)
        from haetae.pipelines.pii.scanner import PiiConfigError
        from haetae.pipelines.policy.schema import PolicyError
        from haetae.pipelines.rights.score import RightsConfigError

        if not isinstance(exc, PolicyError | PiiConfigError | RightsConfigError):
            raise
        print(f"haetae safety generate: audit step: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(manifest["counts"]))
    print(f"coverage: {Path(args.out) / 'coverage.html'}  manifest: {Path(args.out) / 'manifest.json'}")
    return 0


def _gate(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.errors import EXIT_OK, EXIT_VALIDATION_FAILED
    from haetae.reports.safety_gate import evaluate_gate, format_result, load_gate_policy, read_metrics

    policy = load_gate_policy(args.gate)
    results = evaluate_gate(read_metrics(args.metrics), policy)
    for result in results:
        print(format_result(result))
    failed = [r.rule for r in results if r.passed is False]
    checked = sum(r.passed is not None for r in results)
    if failed:
        print(f"gate: FAIL ({len(failed)} of {checked} rules): {', '.join(failed)}")
        return EXIT_VALIDATION_FAILED
    print(f"gate: PASS ({checked} rules, weighting {policy['weighting']})")
    return EXIT_OK
