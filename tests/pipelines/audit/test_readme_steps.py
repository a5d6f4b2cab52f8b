"""README's step diagram is checked against the audit's own Beam graph: every step it names is a step of
``build_pipeline``, in the order the graph applies them, so the picture cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import apache_beam as beam
from apache_beam.pipeline import PipelineVisitor

from haetae.pipelines.audit import build_pipeline
from haetae.pipelines.policy import load_policy

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "pipelines" / "data" / "sample_corpus.jsonl"
DIAGRAM_INTRO = "The job is a list of small named Beam steps"


def readme_steps() -> list[str]:
    """The step names of README's diagram: the CamelCase words of the fenced block after its introduction."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split(DIAGRAM_INTRO, 1)[1].split("```", 2)[1]
    block = re.sub(r"\([^)]*\)", "", block)  # "(MinHash LSH as Beam data)" explains a step, it is not one
    return re.findall(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*\b", block)


class _Labels(PipelineVisitor):
    def __init__(self) -> None:
        self.labels: list[str] = []

    def enter_composite_transform(self, node) -> None:
        self.labels.append(node.full_label)

    def visit_transform(self, node) -> None:
        self.labels.append(node.full_label)


def graph_steps(tmp_path: Path) -> list[str]:
    """The last label component of every transform of the audit graph, in the order they were applied."""
    pipeline = beam.Pipeline()
    build_pipeline(pipeline, [str(SAMPLE)], str(tmp_path), load_policy(None))
    visitor = _Labels()
    pipeline.visit(visitor)
    return [label.rsplit("/", 1)[-1] for label in visitor.labels if label]


def diagram_problems(named: list[str], steps: list[str]) -> list[str]:
    """What is wrong with a diagram naming ``named`` for a graph of ``steps``: unknown names, then order."""
    missing = [name for name in named if name not in steps]
    if missing:
        return [f"README names steps the audit graph does not have: {missing}"]
    positions = [steps.index(name) for name in named]
    return [] if positions == sorted(positions) else [f"README's order {named} differs from the graph's"]


def test_readme_names_the_audit_steps_in_graph_order(tmp_path):
    named = readme_steps()
    assert len(named) >= 8, named
    assert diagram_problems(named, graph_steps(tmp_path)) == []


def test_a_renamed_or_reordered_step_is_caught(tmp_path):
    steps = graph_steps(tmp_path)
    named = readme_steps()
    assert diagram_problems([*named[:2], "ScorePersonalData", *named[2:]], steps)
    assert diagram_problems([named[1], named[0], *named[2:]], steps)
