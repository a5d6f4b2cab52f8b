"""Beam runner resolution: an offline DirectRunner, and a DaskRunner that runs multi-sink pipelines correctly.

Beam 2.77's ``DirectRunner`` first tries the Prism runner, which downloads a binary from GitHub at run time
(and, offline, fails and falls back). ``DirectRunner`` here goes straight to Beam's FnApiRunner, honouring
``--direct_running_mode`` and ``--direct_num_workers``: nothing is downloaded.

Its multi-processing workers run :mod:`haetae.pipelines.runners.worker` (Beam's SDK harness without its
start-up notices, and without the interpreter tear-down when a job ends).

Beam 2.77's ``DaskRunner`` has three faults that lose data silently in a pipeline like the audit job:

1. it computes only the last Dask bag of the translated graph, so with several sinks all but one are skipped;
2. a multi-output ``ParDo``'s bag holds every output, and each consumer reads all of them, whatever its tag;
3. elements a ``DoFn`` emits from ``finish_bundle`` are dropped (outputs are collected before it runs).

``DaskRunner`` here computes every leaf bag, filters a producer's bag by the consumer's tag, and collects a
bundle's outputs after ``finish_bundle``. It also closes its client when the job ends. Beam's file sinks still
finalise through side inputs that Dask does not order, so the audit writes shards per bundle on Dask
(``haetae.pipelines.io.beam_io.WriteShards(bundle_sinks=True)``).
"""

from __future__ import annotations

import collections
import dataclasses
import functools

from apache_beam import pvalue
from apache_beam.pipeline import AppliedPTransform, PipelineVisitor
from apache_beam.runners.dask import transform_evaluator as te
from apache_beam.runners.dask.dask_runner import DaskOptions, DaskRunnerResult, dask_overrides
from apache_beam.runners.dask.dask_runner import DaskRunner as _BeamDaskRunner
from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner, SwitchingDirectRunner
from apache_beam.runners.portability.fn_api_runner import fn_runner

# The DirectRunner and DaskRunner below replace Beam internals (FnApiRunner's worker command, the Dask
# transform evaluator's ParDo and visitor) as they are in this release; pyproject pins it. No upstream issue
# was found for the three DaskRunner faults (searched apache/beam); re-check them before moving the pin.
WRITTEN_FOR_BEAM = "2.77."
DASK_RANGES_PER_PARTITION = 16


def check_beam_version(runner: str) -> None:
    """Refuse to run a runner workaround on a Beam release it was not written for (it could lose data)."""
    import apache_beam

    if not apache_beam.__version__.startswith(WRITTEN_FOR_BEAM):
        from haetae.errors import UsageError

        raise UsageError(f"haetae's {runner} is written for Apache Beam {WRITTEN_FOR_BEAM}x, but "
                         f"{apache_beam.__version__} is installed; install apache-beam=={WRITTEN_FOR_BEAM}0 "
                         "(pinned in pyproject.toml) or check pipelines/runners/options.py against the new release")


RUNNER_ALIASES = {
    "DirectRunner": "haetae.pipelines.runners.options.DirectRunner",
    "DaskRunner": "haetae.pipelines.runners.options.DaskRunner",
    "dask": "haetae.pipelines.runners.options.DaskRunner",
    "direct": "haetae.pipelines.runners.options.DirectRunner",
    "flink": "FlinkRunner",
    "spark": "SparkRunner",
    "dataflow": "DataflowRunner",
}


def resolve_runner(name: str) -> str:
    """Map a short runner name to what Beam's ``--runner`` accepts."""
    return RUNNER_ALIASES.get(name, name)


def pipeline_options(runner: str, beam_args: list[str] | tuple[str, ...] = ()):
    """Beam options for a Haetae job, and whether its sinks must write one shard per bundle.

    Local runs default to the multi-processing DirectRunner with one worker per core. Per-bundle sinks are
    used on the DirectRunner (it never retries a bundle, and they save Beam's finalisation stages) and on
    Dask (Beam's file sinks do not finalise there); distributed runners get Beam's transactional sinks.
    """
    import os

    from apache_beam.options.pipeline_options import PipelineOptions

    resolved = resolve_runner(runner)
    if resolved.startswith("haetae."):
        check_beam_version(resolved.rsplit(".", 1)[1])
    args = [f"--runner={resolved}", *beam_args]
    if not any(a.startswith("--default_sdk_harness_log_level") for a in beam_args):
        args.append("--default_sdk_harness_log_level=ERROR")
    local = resolved in (RUNNER_ALIASES["DirectRunner"], RUNNER_ALIASES["DaskRunner"])
    if resolved == RUNNER_ALIASES["DirectRunner"] and not any(
            a.startswith("--direct_running_mode") for a in beam_args):
        args += ["--direct_running_mode=multi_processing", f"--direct_num_workers={os.cpu_count() or 2}"]
    if resolved == RUNNER_ALIASES["DaskRunner"] and not any(
            a.startswith(("--dask_partition_size", "--dask_npartitions")) for a in beam_args):
        # Beam's Dask translation puts up to 128 created elements in one bag partition: all the input's byte
        # ranges (64 at most, see io.auto_split_bytes), so one worker would read, score and hold the whole
        # corpus. 16 ranges per partition spread a large input over 4 partitions; fewer cost more: each
        # partition sets every DoFn up again and multiplies the tasks of every shuffle (one range per
        # partition: 412 s for 20k documents on 2 workers, against 114 s with one partition).
        args.append(f"--dask_partition_size={DASK_RANGES_PER_PARTITION}")
    return PipelineOptions(args), local


class DirectRunner(SwitchingDirectRunner):
    """Beam's DirectRunner without its Prism attempt: batch pipelines run on the FnApiRunner."""

    def is_fnapi_compatible(self) -> bool:
        """True: ``Pipeline.run`` then skips its test round trip through the runner API (a second pickling
        and unpickling of every transform, ~1 s for the audit job), as it does for Beam's own DirectRunner."""
        return True

    def run_pipeline(self, pipeline, options):
        from apache_beam.options.pipeline_options import StandardOptions
        from apache_beam.portability.api import beam_provision_api_pb2
        from apache_beam.runners.portability.portable_runner import JobServiceHandle

        if options.view_as(StandardOptions).streaming:
            return BundleBasedDirectRunner().run_pipeline(pipeline, options)
        encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
        provision = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
        return _FnApiRunner(provision_info=provision).run_pipeline(pipeline, options)


BEAM_WORKER_MODULE = "apache_beam.runners.worker.sdk_worker_main"
HAETAE_WORKER_MODULE = "haetae.pipelines.runners.worker"


class _FnApiRunner(fn_runner.FnApiRunner):
    """Beam's FnApiRunner whose subprocess workers run :mod:`haetae.pipelines.runners.worker`."""

    def run_via_runner_api(self, pipeline_proto, options):
        from apache_beam.portability import python_urns

        for env in pipeline_proto.components.environments.values():
            if env.urn == python_urns.SUBPROCESS_SDK:  # payload: the worker's command line
                env.payload = env.payload.replace(f"-m {BEAM_WORKER_MODULE}".encode(),
                                                  f"-m {HAETAE_WORKER_MODULE}".encode())
        return super().run_via_runner_api(pipeline_proto, options)


def _apply_dofn_to_bundle(items, invoker_args, invoker_kwargs, receivers):
    """Beam's bundle function, collecting outputs after ``finish_bundle`` as well."""
    receivers.values.clear()
    invoker = te.DoFnInvoker.create_invoker(*invoker_args, **invoker_kwargs)
    invoker.invoke_setup()
    invoker.invoke_start_bundle()
    for item in items:
        invoker.invoke_process(item)
    invoker.invoke_finish_bundle()
    invoker.invoke_teardown()
    results = [te.TaggedOutput(v.tag, v.value.value) if isinstance(v, te.TaggedOutput) else v.value
               for v in receivers.values]
    receivers.values.clear()
    return results


class _ParDo(te.ParDo):
    def apply(self, input_bag, side_inputs=None):
        transform = self.transform
        args, kwargs = transform.raw_side_inputs
        main_input = next(iter(self.applied.main_inputs.values()))
        window_fn = main_input.windowing.windowfn if hasattr(main_input, "windowing") else None
        receivers = te.OneReceiver()
        invoker_args = [
            te.DoFnSignature(transform.fn),
            te._OutputHandler(
                window_fn=window_fn, main_receivers=receivers[None], tagged_receivers=receivers,
                per_element_output_counter=None, output_batch_converter=None, process_yields_batches=False,
                process_batch_yields_elements=False),
        ]
        invoker_kwargs = dict(
            context=te.DoFnContext(transform.label, state=None), side_inputs=side_inputs, input_args=list(args),
            input_kwargs=kwargs, user_state_context=None, bundle_finalizer_param=te.DoFn.BundleFinalizerParam())
        return input_bag.map(te.get_windowed_value, window_fn).map_partitions(
            _apply_dofn_to_bundle, invoker_args, invoker_kwargs, receivers)


_TRANSLATIONS = {**te.TRANSLATIONS, te.apache_beam.ParDo: _ParDo}


def _select_tag(item, tag):
    if isinstance(item, te.TaggedOutput):
        return item.tag == tag
    return tag is None


def _untag(item):
    return item.value if isinstance(item, te.TaggedOutput) else item


def _tag_of(pcoll, producer: AppliedPTransform):
    """The output tag a consumer reads from its producer (None = main output)."""
    return next((tag for tag, out in producer.outputs.items() if out is pcoll), None)


def _visitor(bag_kwargs):
    @dataclasses.dataclass
    class Visitor(PipelineVisitor):
        bags: dict = dataclasses.field(default_factory=collections.OrderedDict)

        def _input_bag(self, pcoll):
            producer = pcoll.producer
            bag = self.bags[producer]
            if len(producer.outputs) <= 1:
                return bag
            selected = bag.filter(functools.partial(_select_tag, tag=_tag_of(pcoll, producer)))
            return selected.map(_untag)

        def visit_transform(self, node: AppliedPTransform) -> None:
            op = _TRANSLATIONS.get(node.transform.__class__, te.NoOp)(node, bag_kwargs=bag_kwargs)
            kws = {"input_bag": None, "side_inputs": None}
            inputs = list(node.inputs)
            if inputs:
                bags = []
                for value in inputs:
                    if isinstance(value, pvalue.PBegin):
                        bags.append(None)
                    if value.producer in self.bags:
                        bags.append(self._input_bag(value))
                kws["input_bag"] = bags[0] if len(bags) == 1 and not isinstance(op, te.Flatten) else bags
            if node.side_inputs:
                kws["side_inputs"] = [
                    te.SideInputMap(type(si), si._view_options(),
                                    te.DaskBagWindowedIterator(self._input_bag(si.pvalue), si._window_mapping_fn))
                    for si in node.side_inputs
                ]
            self.bags[node] = op.apply(**kws)

    return Visitor()


class _ClosingResult(DaskRunnerResult):
    def wait_until_finish(self, duration=None) -> str:
        try:
            return super().wait_until_finish(duration)
        finally:
            self.client.close()


class DaskRunner(_BeamDaskRunner):
    """Beam's DaskRunner with every sink computed, tagged outputs separated and finish_bundle outputs kept."""

    def run_pipeline(self, pipeline, options):
        import dask
        import dask.distributed as ddist

        dask_options = options.view_as(DaskOptions).get_all_options(drop_default=True, current_only=True)
        bag_kwargs = DaskOptions._extract_bag_kwargs(dask_options)
        client = ddist.Client(**dask_options)
        try:
            pipeline.replace_all(dask_overrides())
            visitor = _visitor(bag_kwargs)
            pipeline.visit(visitor)
            consumed = set()
            for node in visitor.bags:
                consumed.update(getattr(p, "producer", None) for p in node.inputs)
                consumed.update(si.pvalue.producer for si in node.side_inputs)
            leaves = [bag for node, bag in visitor.bags.items() if node not in consumed]
            futures = client.compute(list(dask.optimize(*leaves)))
        except BaseException:
            client.close()
            raise
        return _ClosingResult(client, futures)
