"""Beam runner resolution, including a DaskRunner that executes every sink.

Beam's own ``DaskRunner`` (2.77) computes only the last Dask bag of the translated graph, so a pipeline with
several sinks (kept shards, ledger, quarantine, aggregates) silently loses all but one of them. ``DaskRunner``
here computes every leaf of the graph instead, and closes its client when the job ends.
"""

from __future__ import annotations

from apache_beam.runners.dask.dask_runner import DaskOptions, DaskRunnerResult, dask_overrides
from apache_beam.runners.dask.dask_runner import DaskRunner as _BeamDaskRunner

RUNNER_ALIASES = {
    "DaskRunner": "haetae.pipelines.runners.DaskRunner",
    "dask": "haetae.pipelines.runners.DaskRunner",
    "direct": "DirectRunner",
    "flink": "FlinkRunner",
    "spark": "SparkRunner",
    "dataflow": "DataflowRunner",
}


def resolve_runner(name: str) -> str:
    """Map a short runner name to what Beam's ``--runner`` accepts."""
    return RUNNER_ALIASES.get(name, name)


class _ClosingResult(DaskRunnerResult):
    def wait_until_finish(self, duration=None) -> str:
        try:
            return super().wait_until_finish(duration)
        finally:
            self.client.close()


class DaskRunner(_BeamDaskRunner):
    """Beam's DaskRunner, computing all leaf bags rather than only the last one."""

    def run_pipeline(self, pipeline, options):
        import dask
        import dask.distributed as ddist

        dask_options = options.view_as(DaskOptions).get_all_options(drop_default=True, current_only=True)
        bag_kwargs = DaskOptions._extract_bag_kwargs(dask_options)
        client = ddist.Client(**dask_options)
        pipeline.replace_all(dask_overrides())
        visitor = self.to_dask_bag_visitor(bag_kwargs)
        pipeline.visit(visitor)
        consumed = set()
        for node in visitor.bags:
            for pcoll in node.inputs:
                consumed.add(getattr(pcoll, "producer", None))
            for side in node.side_inputs:
                consumed.add(side.pvalue.producer)
        leaves = [bag for node, bag in visitor.bags.items() if node not in consumed]
        graphs = dask.optimize(*leaves)
        futures = client.compute(list(graphs))
        return _ClosingResult(client, futures)
