"""The alignment summary (``out/align/summary.html``): training curves of every stage and before/after samples.

Curves come from each stage's ``metrics.jsonl`` (``haetae train``'s log: one JSON object per logged step, TRL's
keys plus ``step`` and ``stage``); a curve whose key was never logged says so instead of being left out. The page
is a Jinja2 template with autoescape on, charts are inline SVG from ``haetae.reports.charts``: one file, no scripts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from haetae import __version__
from haetae.errors import UsageError
from haetae.reports.charts import line_chart


@dataclass(frozen=True)
class Curve:
    """One chart: ``series`` maps a legend label to the metric key it plots."""

    stage: str
    title: str
    series: Mapping[str, str]


CURVES = (
    Curve("sft", "SFT loss", {"loss": "loss", "MTP loss": "mtp_loss"}),
    Curve("agapo", "AGAPO reward (mean over completions)",
          {"total": "reward", "math answer": "rewards/math_answer/mean", "safety": "rewards/safety/mean"}),
    Curve("agapo", "AGAPO KL to the SFT reference", {"KL": "kl"}),
    Curve("agapo", "AGAPO loss", {"loss": "loss"}),
    Curve("agapo", "AGAPO filtered fraction", {"filtered groups": "agapo/filtered_fraction",
                                               "all-wrong groups": "agapo/all_wrong_fraction"}),
    Curve("grouper", "GrouPER loss", {"loss": "loss"}),
    Curve("grouper", "GrouPER judge reward of the cached groups", {"reward": "grouper/reward"}),
)


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The per-step records of a ``metrics.jsonl`` (the end-of-training summary line is left out)."""
    records = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise UsageError(f"{path}:{number}: not JSON ({err.msg}); rerun the training stage") from None
            if not isinstance(record, dict) or "step" not in record:
                raise UsageError(f"{path}:{number}: a metrics line needs a 'step'; is this haetae train's log?")
            if "train_runtime" not in record:
                records.append(record)
    return records


def _points(records: Sequence[Mapping[str, Any]], key: str) -> list[tuple[float, float]]:
    return [(float(r["step"]), float(r[key])) for r in records
            if isinstance(r.get(key), int | float) and math.isfinite(r[key])]


def first_last(records: Sequence[Mapping[str, Any]], key: str, window: int | None = None) -> tuple[float, float] | None:
    """Mean of ``key`` over the first and the last ``window`` logged steps (None if never logged).

    The default window is a quarter of the logged steps (at least one): a per-step RL reward is a mean over a few
    sampled groups and too noisy for a three-step window to say whether it rose."""
    values = [y for _, y in _points(records, key)]
    if not values:
        return None
    n = min(window or max(1, len(values) // 4), len(values))
    return sum(values[:n]) / n, sum(values[-n:]) / n


def render_align_summary(stages: Mapping[str, Sequence[Mapping[str, Any]]], samples: Sequence[Mapping[str, Any]],
                         info: Mapping[str, Any] | None = None) -> str:
    """The page's HTML. ``stages``: stage -> metric records; ``samples``: rows with ``task``, ``prompt``,
    ``before``, ``after`` (and optional ``answer``, ``before_reward``, ``after_reward``)."""
    charts = [{"stage": c.stage, "svg": Markup(line_chart(
        {label: _points(stages.get(c.stage, ()), key) for label, key in c.series.items()}, c.title))}
        for c in CURVES if c.stage in stages]
    headline = []
    for stage, key, label in (("agapo", "rewards/math_answer/mean", "AGAPO math reward"),
                              ("agapo", "reward", "AGAPO total reward"), ("sft", "loss", "SFT loss"),
                              ("grouper", "loss", "GrouPER loss")):
        span = first_last(stages.get(stage, ()), key)
        if span:
            headline.append({"label": label, "first": span[0], "last": span[1]})
    env = Environment(loader=PackageLoader("haetae.reports", "templates"), autoescape=select_autoescape(["html"]))
    return env.get_template("align_summary.html").render(
        charts=charts, samples=samples, headline=headline, info=dict(info or {}), version=__version__,
        steps={stage: len(records) for stage, records in stages.items()},
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))


def write_align_summary(path: str | Path, metrics_paths: Mapping[str, str | Path],
                        samples: Sequence[Mapping[str, Any]], info: Mapping[str, Any] | None = None) -> Path:
    """Read each stage's ``metrics.jsonl``, render, and write the page (atomically); returns its path."""
    stages = {stage: read_metrics(p) for stage, p in metrics_paths.items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(render_align_summary(stages, samples, info), encoding="utf-8")
    tmp.replace(path)
    return path
