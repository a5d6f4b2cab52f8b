"""The base of the jobs' Beam steps: counters and bundle-end output, written once.

A step counts with ``self.count(name, n)`` (DataTrove's ``PipelineStep.stat_update``): the Beam counter
``(NAMESPACE, name)`` is made on first use and cached, so a step never keeps its own counter dict. The job
summary reads counters as ``"namespace.name"`` (:func:`counter_key`), so every step that is read by name sets
``NAMESPACE`` explicitly (``"read"``, ``"lang"``, ``"pii"``, ``"rights"``, ``"dedup"``, ``"decide"``); one
that does not is counted under its class, as Beam's ``Metrics.counter(self.__class__, name)`` does.

An element a step emits from ``finish_bundle`` has no input element whose window it could inherit: Beam
needs it windowed, so :meth:`Step.bundle_output` puts it in the global window (tagged, for a tagged output).
"""

from __future__ import annotations

from typing import Any, ClassVar

import apache_beam as beam


def counter_key(namespace: str, name: str) -> str:
    """How the job summary and the local runners name a counter: ``"read.records"``."""
    return f"{namespace}.{name}"


class Step(beam.DoFn):
    """A Beam DoFn with :meth:`count` and :meth:`bundle_output`."""

    NAMESPACE: ClassVar[str | None] = None
    """The namespace of this step's counters (None: the class, as Beam names it)."""

    def count(self, name: str, n: int = 1, *, namespace: str | None = None) -> None:
        """Add ``n`` to the counter ``(namespace or NAMESPACE, name)``."""
        counters = self.__dict__.get("_step_counters")
        if counters is None:  # made on first use: a step needs no set-up for it
            counters = self.__dict__["_step_counters"] = {}
        key = (namespace or self.NAMESPACE, name)
        counter = counters.get(key)
        if counter is None:
            counter = counters[key] = beam.metrics.Metrics.counter(key[0] or type(self), name)
        counter.inc(n)

    @staticmethod
    def bundle_output(value: Any, tag: str | None = None):
        """``value`` as an element ``finish_bundle`` may yield: in the global window, on ``tag`` if given."""
        from apache_beam.transforms.window import GlobalWindow
        from apache_beam.utils.windowed_value import WindowedValue

        windowed = WindowedValue(value, 0, [GlobalWindow()])
        return windowed if tag is None else beam.pvalue.TaggedOutput(tag, windowed)
