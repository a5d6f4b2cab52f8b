"""The step base on a real Beam runner: counters by namespace and name, and elements from finish_bundle."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

from haetae.pipelines.steps import Step, counter_key

IN_MEMORY = ["--runner=haetae.pipelines.runners.options.DirectRunner", "--direct_running_mode=in_memory"]


class CountWords(Step):
    NAMESPACE = "words"

    def start_bundle(self):
        self._words = 0

    def process(self, text):
        words = text.split()
        self._words += len(words)
        self.count("texts")
        self.count("words", len(words))
        self.count(f"first_{words[0]}")
        self.count("seen", namespace="other")
        yield text.upper()

    def finish_bundle(self):
        yield self.bundle_output(self._words, "totals")


class Unnamed(Step):
    def process(self, x):
        self.count("items")
        yield x


def test_counters_and_bundle_output_on_beam():
    p = beam.Pipeline(options=PipelineOptions(IN_MEMORY))
    out = (p | beam.Create(["a b", "a c d", "b"]) | beam.ParDo(CountWords()).with_outputs("totals", main="texts"))
    assert_that(out.texts, equal_to(["A B", "A C D", "B"]), label="Texts")
    assert_that(out.totals | beam.CombineGlobally(sum), equal_to([6]), label="Totals")
    _ = out.texts | beam.ParDo(Unnamed())
    result = p.run()
    result.wait_until_finish()
    counters = {counter_key(c.key.metric.namespace, c.key.metric.name): c.committed
                for c in result.metrics().query()["counters"]}
    assert {k: v for k, v in counters.items() if k.startswith(("words.", "other."))} == {
        "words.texts": 3, "words.words": 6, "words.first_a": 2, "words.first_b": 1, "other.seen": 3}
    unnamed = [k for k in counters if k.endswith(".items")]
    assert unnamed == [counter_key(f"{Unnamed.__module__}.Unnamed", "items")] and counters[unnamed[0]] == 3
