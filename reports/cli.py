"""`haetae report ethics`: the ethics-committee review from an audit and a safety evaluation."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser("report", help="documents people read: the ethics-committee review")
    report_sub = report.add_subparsers(dest="report_command", required=True, metavar="COMMAND")
    ethics = report_sub.add_parser(
        "ethics", help="ethics-committee review (HTML, optionally PDF) from an audit and a safety evaluation",
        description="Model summary, data-audit summary (ledger and aggregates), safety results by domain and area "
                    "with intervals, weakest areas with masked examples, over-refusal, judge quality, the release "
                    "gate and a sign-off section, in Korean or English.")
    ethics.add_argument("--audit", required=True, metavar="AUDIT_DIR", help="a `haetae audit --out` folder")
    ethics.add_argument("--safety", required=True, metavar="EVAL_DIR", help="a `haetae safety eval --out` folder")
    ethics.add_argument("--baseline", default=None, metavar="EVAL_DIR",
                        help="the evaluation before alignment, for the paired comparison")
    ethics.add_argument("--model-card", required=True, metavar="FILE", help="YAML/JSON fields or a text/Markdown card")
    ethics.add_argument("--gate", default=None, metavar="FILE", help="gate policy (default policies/safety_gate.yaml)")
    ethics.add_argument("--out", required=True, metavar="DIR")
    ethics.add_argument("--lang", choices=("ko", "en"), default="ko")
    ethics.add_argument("--pdf", action="store_true", help="also print the page to PDF (WeasyPrint)")
    ethics.set_defaults(func=_ethics)


def _ethics(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.reports.ethics_report import build_context, write_ethics_report

    context = build_context(args.audit, args.safety, args.model_card, lang=args.lang, baseline_dir=args.baseline,
                            gate_file=args.gate)
    paths = write_ethics_report(args.out, context, pdf=args.pdf)
    print(json.dumps({"gate": "PASS" if context["gate_passed"] else "FAIL", **paths}))
    return 0
