"""``haetae safety eval`` and ``haetae safety judge``: the evaluation and the judge as commands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from haetae.reports.judges.factory import JUDGES


def _judge_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--judge", choices=JUDGES, default="offline",
                   help="offline: the classifier trained here on the project's labelled set (no endpoint); llm: an "
                        "OpenAI-compatible judge model (--judge-endpoint, --judge-model); rules: the phrase baseline")
    p.add_argument("--judge-endpoint", default=None, metavar="URL", help="e.g. http://127.0.0.1:8000/v1 (llm judge)")
    p.add_argument("--judge-model", default=None, metavar="NAME")
    p.add_argument("--judge-timeout", type=float, default=60.0, help="seconds per judge request")
    p.add_argument("--judge-retries", type=int, default=4, help="retries on timeouts, 5xx and outages")
    p.add_argument("--allow-insecure-http", action="store_true",
                   help="send $OPENAI_API_KEY over plain http:// to a host that is not loopback")


def register(safety_sub: argparse._SubParsersAction) -> None:
    ev = safety_sub.add_parser(
        "eval", help="KGC-SAFETY evaluation on inspect-ai: generate, judge, metrics.json",
        description="Evaluate a checkpoint (--model DIR: haetae model init, a trained checkpoint or LoRA adapter, "
                    "a K-EXAONE directory) or an OpenAI-compatible endpoint (--endpoint URL --endpoint-model NAME) "
                    "on the generated evaluation set. Writes OUT/logs (inspect view --log-dir OUT/logs), "
                    "OUT/judged.jsonl and OUT/metrics.json; an interrupted run resumes.")
    target = ev.add_mutually_exclusive_group(required=True)
    target.add_argument("--model", default=None, metavar="DIR")
    target.add_argument("--endpoint", default=None, metavar="URL")
    ev.add_argument("--endpoint-model", default=None, metavar="NAME")
    ev.add_argument("--eval-set", required=True, metavar="DIR", help="a `haetae safety generate` output folder")
    ev.add_argument("--out", required=True, metavar="DIR")
    ev.add_argument("--limit", type=int, default=None, help="at most N items, spread over areas and kinds")
    ev.add_argument("--max-tokens", type=int, default=256)
    ev.add_argument("--speculative", action="store_true", help="MTP self-speculative decoding (checkpoint with MTP)")
    ev.add_argument("--fresh", action="store_true", help="run again even if OUT holds a finished run")
    ev.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples for the intervals")
    ev.add_argument("--timeout", type=int, default=120, help="seconds per model request (endpoint)")
    ev.add_argument("--retries", type=int, default=3, help="retries of a failed request or sample")
    _judge_args(ev)
    ev.set_defaults(func=_eval)

    jd = safety_sub.add_parser(
        "judge", help="judge responses: IN.jsonl {id, messages, response} -> OUT.jsonl {id, verdict, refusal, criterion}",
        description="Judge each row of IN.jsonl ({\"id\", \"messages\": [...], \"response\"}, optionally \"kind\": "
                    "harmful|benign, \"criteria\", \"positive_policy\"). Writes {\"id\", \"verdict\": safe|unsafe|"
                    "error|abstain, \"refusal\", \"criterion\"} per row; a malformed row is an error row with its "
                    "reason, never skipped.")
    jd.add_argument("input", metavar="IN.jsonl")
    jd.add_argument("--out", required=True, metavar="OUT.jsonl")
    _judge_args(jd)
    jd.set_defaults(func=_judge)


def judge_spec(args: argparse.Namespace):
    from haetae.reports.judges.factory import JudgeSpec

    return JudgeSpec(name=args.judge, endpoint=args.judge_endpoint, model=args.judge_model,
                     timeout=args.judge_timeout, retries=args.judge_retries,
                     allow_insecure_http=args.allow_insecure_http)


def _eval(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.reports.safety_eval.run import EvalTarget, run_safety_eval

    judge = judge_spec(args)
    target = EvalTarget(model=args.model, endpoint=args.endpoint, endpoint_model=args.endpoint_model,
                        model_args={"speculative": True} if args.speculative else None)
    metrics = run_safety_eval(target, args.eval_set, judge, args.out, limit=args.limit, max_tokens=args.max_tokens,
                              fresh=args.fresh, n_boot=args.n_boot, timeout=args.timeout, retries=args.retries,
                              log=lambda m: print(m, file=sys.stderr))
    overall = metrics["safe_rate"]["overall"]["area_weighted"]["safe_rate"]
    print(json.dumps({"safe_rate": overall, "over_refusal": metrics["over_refusal"]["rate"],
                      "judge_coverage": metrics["judge_coverage"]["overall"]["coverage"],
                      "samples": metrics["run"]["samples"]}))
    print(f"metrics: {Path(args.out) / 'metrics.json'}  log: {Path(args.out) / 'logs'}")
    return 0


def _judge(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.errors import UsageError
    from haetae.reports.judges.verdict import JudgeInput, Verdict

    judge = judge_spec(args).build()
    path = Path(args.input)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    counts: dict[str, int] = {}
    with path.open(encoding="utf-8") as src, Path(args.out).open("w", encoding="utf-8") as dst:
        for n, line in enumerate(src, start=1):
            if not line.strip():
                continue
            row_id = f"line{n}"
            try:
                row = json.loads(line)
                row_id = str(row.get("id", row_id))
                messages = row["messages"]
                if not (isinstance(messages, list) and messages and isinstance(row.get("response"), str)):
                    raise ValueError("needs messages (a non-empty list) and response (text)")
                item = JudgeInput(messages=messages, response=row["response"], kind=row.get("kind", "harmful"),
                                  language=row.get("language", "en"), criteria=row.get("criteria") or [],
                                  positive_policy=row.get("positive_policy") or [], id=row_id)
                verdict = judge.judge(item)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                verdict = Verdict("error", reason=f"line {n}: malformed row ({type(exc).__name__}: {str(exc)[:80]})")
            counts[verdict.verdict] = counts.get(verdict.verdict, 0) + 1
            dst.write(json.dumps(verdict.to_record(row_id), ensure_ascii=False) + "\n")
    print(json.dumps(counts, sort_keys=True))
    return 0
