"""``haetae safety eval``: run the KGC-SAFETY task on a model or endpoint, judge it, write metrics.json.

Writes into OUT: ``logs/`` (inspect's log, browsable with ``inspect view --log-dir OUT/logs``), ``judged.jsonl``
(one row per item: ids, groups and the verdict; no prompt or response text, so it can travel to a committee
without the red-team content), ``metrics.json`` (``reports.safety_metrics``) and ``judge.json`` (which judge,
and its agreement with the held-out labelled split where one is measured). Resumable: a run interrupted or
stopped by a sample that kept failing (outage, 5xx, timeouts after the retries) is continued with inspect's
``eval_retry`` on the same log (inspect 0.3.285 runs the stopped task's samples again rather than reusing the
finished ones); until then the unfinished items are ``error`` rows in the denominator. A finished run is not
repeated unless ``--fresh``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from haetae.errors import UsageError
from haetae.reports.judges.factory import JudgeSpec, judge_card

JUDGED = "judged.jsonl"
METRICS = "metrics.json"
JUDGE = "judge.json"


@dataclass(frozen=True)
class EvalTarget:
    """The model under evaluation: a checkpoint directory, or an OpenAI-compatible endpoint and model name."""

    model: str | None = None
    endpoint: str | None = None
    endpoint_model: str | None = None
    model_args: dict | None = None

    def inspect_model(self) -> tuple[str, dict, str | None]:
        """(inspect model name, model_args, base_url)."""
        if self.model:
            return f"haetae/{Path(self.model).resolve()}", dict(self.model_args or {}), None
        if not self.endpoint or not self.endpoint_model:
            raise UsageError("give --model PATH, or --endpoint URL with --endpoint-model NAME")
        return f"openai-api/endpoint/{self.endpoint_model}", dict(self.model_args or {}), self.endpoint


def _unfinished_log(log_dir: Path):
    from inspect_ai.log import list_eval_logs, read_eval_log

    logs = list_eval_logs(str(log_dir)) if log_dir.exists() else []
    for info in sorted(logs, key=lambda i: i.mtime or 0, reverse=True):
        log = read_eval_log(info, header_only=True)
        return log if log.status != "success" else None, log
    return None, None


def judged_rows(log) -> list[dict]:
    """One ``safety_metrics`` row per sample of a finished log (samples without a score are ``error``)."""
    rows = []
    for s in log.samples or []:
        meta = s.metadata or {}
        score = next(iter((s.scores or {}).values()), None)
        sm = (score.metadata if score else None) or {}
        verdict = sm.get("verdict", "error")
        rows.append({"id": str(s.id), "kind": meta.get("kind"), "area": meta.get("area"), "domain": meta.get("domain"),
                     "language": meta.get("language"), "mutation": meta.get("mutation") or "none",
                     "shape": meta.get("shape"), "seed_id": meta.get("seed_id"), "verdict": verdict,
                     "refusal": bool(sm.get("refusal")) if verdict in ("safe", "unsafe") else None,
                     "partial_refusal": bool(sm.get("partial_refusal", False)), "criterion": sm.get("criterion"),
                     **({"error": (s.error.message[:200] if s.error else sm.get("reason", ""))}
                        if verdict in ("error", "abstain") else {})})
    return rows


def missing_rows(rows: list[dict], samples, status: str) -> list[dict]:
    """Error rows for the samples a stopped run has not finished: they stay in the denominator."""
    done = {r["id"] for r in rows}
    return [{"id": str(s.id), "kind": s.metadata["kind"], "area": s.metadata["area"], "domain": s.metadata["domain"],
             "language": s.metadata["language"], "mutation": s.metadata["mutation"], "shape": s.metadata["shape"],
             "seed_id": s.metadata.get("seed_id"), "verdict": "error", "refusal": None, "partial_refusal": False,
             "criterion": None, "error": f"not finished (run status {status}); run the same command to resume"}
            for s in samples if str(s.id) not in done]


def run_safety_eval(target: EvalTarget, eval_set: str | Path, judge: JudgeSpec, out: str | Path, *,
                    limit: int | None = None, max_tokens: int = 256, fresh: bool = False, retries: int = 3,
                    n_boot: int = 2000, timeout: float | None = 120.0, log=print) -> dict[str, Any]:
    from inspect_ai import eval as inspect_eval
    from inspect_ai import eval_retry
    from inspect_ai.log import read_eval_log

    import haetae.reports.safety_eval.provider  # noqa: F401  (registers the haetae/ provider)
    from haetae.reports.safety_eval.task import kgc_safety, load_eval_samples
    from haetae.reports.safety_metrics import safety_metrics

    out = Path(out)
    log_dir = out / "logs"
    out.mkdir(parents=True, exist_ok=True)
    model, model_args, base_url = target.inspect_model()
    unfinished, last = (None, None) if fresh else _unfinished_log(log_dir)
    samples = None  # the items of the set: the task's own dataset when this call builds the task
    # A sample that still fails after `retries` attempts stops the run (status "error"): the next call resumes
    # it with eval_retry; until then every unfinished item is counted as an error, not dropped.
    common = {"log_dir": str(log_dir), "display": "none", "retry_on_error": retries, "max_retries": retries,
              "score": True, **({"timeout": int(timeout), "attempt_timeout": int(timeout)} if timeout else {})}
    if unfinished is not None:
        log(f"haetae safety eval: resuming {Path(unfinished.location).name} ({unfinished.status})")
        logs = eval_retry(unfinished, log_dir=str(log_dir), retry_on_error=retries, max_retries=retries,
                          display="none", **({"timeout": int(timeout), "attempt_timeout": int(timeout)} if timeout else {}))
    elif last is not None and not fresh:
        log(f"haetae safety eval: {Path(last.location).name} already finished; recomputing metrics "
            "(--fresh runs again)")
        logs = [last]
    else:
        task = kgc_safety(str(eval_set), judge.as_args(), limit=limit, max_tokens=max_tokens)
        samples = list(task.dataset)
        logs = inspect_eval(task, model=model, model_args=model_args, model_base_url=base_url, **common)
    full = read_eval_log(logs[0].location)
    rows = judged_rows(full)
    rows += missing_rows(rows, samples if samples is not None else load_eval_samples(eval_set, limit), full.status)
    with (out / JUDGED).open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    metrics = safety_metrics(rows, n_boot=n_boot, where=str(out / JUDGED))
    if full.status != "success":
        log(f"haetae safety eval: the run stopped ({full.status}): {sum(r['verdict'] == 'error' for r in rows)} "
            "item(s) counted as errors; run the same command again to resume")
    metrics["run"] = {"model": target.model or f"{target.endpoint} ({target.endpoint_model})", "judge": judge.name,
                      "eval_set": str(eval_set), "log": Path(full.location).name, "status": full.status,
                      "samples": len(rows)}
    (out / METRICS).write_text(json.dumps(metrics, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
    try:
        card = judge_card(judge)
    except UsageError as exc:  # no labelled set to measure against: say so rather than fail the run
        card = {"name": judge.name, "quality": None, "quality_error": str(exc)}
    (out / JUDGE).write_text(json.dumps(card, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
    return metrics
