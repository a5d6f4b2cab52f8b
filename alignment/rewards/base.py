"""The shape every reward shares: TRL's ``f(prompts, completions, **kwargs) -> list[float | None]``.

TRL's ``GRPOTrainer`` passes the batch's prompts and completions (strings, or chat messages when the dataset is
conversational), every other dataset column as a list with one value per completion, and ``trainer_state``,
``log_metric``, ``log_extra`` and ``completion_ids``. It turns ``None`` into NaN and leaves NaN out of the group
baseline, the normalisation and the logged means. So a completion that could not be scored (the verifier timed
out, the program was killed, the judge raised) is ``None`` here, counted by kind in :class:`RewardStats` and
logged, never a 0 that would teach the policy that a correct answer was wrong.

A reward is an instance (picklable, and TRL names its column after ``__name__``) of a :class:`Reward` subclass
that implements :meth:`Reward.score` for one sample.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from haetae.errors import HaetaeError, JobFailed, UsageError

logger = logging.getLogger("haetae.alignment.rewards")

# Keyword arguments TRL adds to every call; none of them is a dataset column.
TRAINER_KWARGS = frozenset({"trainer_state", "log_metric", "log_extra", "environments", "completion_ids"})


class Unscored(Exception):
    """Raised by :meth:`Reward.score` when a sample cannot be scored: the reward becomes ``None``.

    ``kind`` is a short stable name (``timeout``, ``gold_unparsable``, ``judge_error``...) that the stats count and
    the metrics name; ``detail`` goes to the debug log only (it may quote model output). ``fallback``, when a
    reward is configured to give one for this kind, is the reward returned instead of ``None`` (still counted).
    """

    def __init__(self, kind: str, detail: str = "", fallback: float | None = None) -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail
        self.fallback = fallback


class RewardStats:
    """Counts of one reward's completions over a run: scored, unscored (``None``) by kind, and failures that got
    the reward's configured fallback value by kind.

    ``max_unscored_fraction`` stops a run whose reward has stopped working: a batch in which a larger share of the
    completions is unscored raises :class:`JobFailed` naming the counts (TRL would otherwise train on nothing).
    """

    def __init__(self, name: str, max_unscored_fraction: float | None = None) -> None:
        if max_unscored_fraction is not None and not 0 <= max_unscored_fraction <= 1:
            raise UsageError(f"reward {name}: max_unscored_fraction={max_unscored_fraction} must be in [0, 1]")
        self.name = name
        self.max_unscored_fraction = max_unscored_fraction
        self.scored = 0
        self.unscored: Counter[str] = Counter()
        self.fallbacks: Counter[str] = Counter()
        self.batches = 0

    @property
    def total(self) -> int:
        return self.scored + sum(self.unscored.values())

    def as_dict(self) -> dict[str, Any]:
        """The run's counts, JSON-ready (for a metrics file or a report)."""
        return {"reward": self.name, "scored": self.scored, "unscored": dict(sorted(self.unscored.items())),
                "fallbacks": dict(sorted(self.fallbacks.items())), "total": self.total, "batches": self.batches}

    def record_batch(self, outcomes: Sequence[tuple[float | None, str | None]],
                     log_metric: Callable[[str, float], None] | None) -> None:
        """Add one batch of ``(reward, failure kind or None)`` and log it."""
        batch = Counter(kind for reward, kind in outcomes if kind is not None and reward is None)
        fallbacks = Counter(kind for reward, kind in outcomes if kind is not None and reward is not None)
        unscored = sum(batch.values())
        self.batches += 1
        self.scored += len(outcomes) - unscored
        self.unscored.update(batch)
        self.fallbacks.update(fallbacks)
        fraction = unscored / len(outcomes) if outcomes else 0.0
        if log_metric is not None:
            # Logged every batch (0 included): TRL averages these per logging step and gathers them across ranks.
            log_metric(f"rewards/{self.name}/unscored_frac", fraction)
            for prefix, counts in (("unscored", batch), ("fallback", fallbacks)):
                for kind, count in sorted(counts.items()):
                    log_metric(f"rewards/{self.name}/{prefix}/{kind}", float(count))
        kinds = ", ".join(f"{kind}={count}" for kind, count in sorted(batch.items()))
        if unscored:
            logger.warning("reward %s: %d of %d completions unscored (%s); run total %d of %d",
                           self.name, unscored, len(outcomes), kinds, sum(self.unscored.values()), self.total)
        if self.max_unscored_fraction is not None and fraction > self.max_unscored_fraction:
            raise JobFailed(f"reward {self.name}: {unscored} of {len(outcomes)} completions unscored ({kinds}), "
                            f"above max_unscored_fraction={self.max_unscored_fraction}; fix the reward's "
                            f"inputs or limits (counts so far: {self.as_dict()})")


def message_text(value: Any, role: str) -> str:
    """The text of a prompt or completion: a string as is, chat messages as their last ``role`` turn's content."""
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence) and value and all(isinstance(m, Mapping) for m in value):
        turns = [m for m in value if m.get("role") == role] or list(value)
        content = turns[-1].get("content") or ""  # None in a turn that only calls tools
        if isinstance(content, str):
            return content
        if isinstance(content, Sequence):  # content blocks: [{"type": "text", "text": ...}, ...]
            return "".join(block.get("text", "") for block in content
                           if isinstance(block, Mapping) and block.get("type") == "text")
    raise UsageError(f"reward input of type {type(value).__name__} is neither text nor chat messages; "
                     "give the trainer a 'prompt' column of strings or of message lists")


class Reward:
    """A TRL reward function: one :meth:`score` per completion, failures to ``None``, counts in :attr:`stats`.

    ``columns`` are the dataset columns :meth:`score` reads; a batch without one of them is a configuration error
    (raised once, naming the columns the batch has), not a batch of ``None``.
    """

    columns: tuple[str, ...] = ()

    def __init__(self, name: str, *, max_workers: int = 1, max_unscored_fraction: float | None = None) -> None:
        if max_workers < 1:
            raise UsageError(f"reward {name}: max_workers={max_workers} must be at least 1")
        self.__name__ = name  # TRL's column name for this reward (get_callable_name reads __name__)
        self.max_workers = max_workers
        self.stats = RewardStats(name, max_unscored_fraction)

    def score(self, prompt: str, completion: str, row: Mapping[str, Any]) -> float:
        """The reward of one completion; raise :class:`Unscored` when it cannot be decided."""
        raise NotImplementedError

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        if len(prompts) != len(completions):
            raise UsageError(f"reward {self.__name__}: {len(prompts)} prompts but {len(completions)} completions")
        missing = [c for c in self.columns if c not in kwargs]
        if missing:
            have = sorted(k for k in kwargs if k not in TRAINER_KWARGS)
            raise UsageError(f"reward {self.__name__}: the dataset has no column {', '.join(missing)} "
                             f"(columns: {', '.join(have) or 'none'}); add it or set the reward's column name")
        rows = [{c: kwargs[c][i] for c in self.columns} for i in range(len(completions))]
        samples = [(message_text(p, "user"), message_text(c, "assistant"), row)
                   for p, c, row in zip(prompts, completions, rows, strict=True)]
        if self.max_workers > 1 and len(samples) > 1:
            with ThreadPoolExecutor(min(self.max_workers, len(samples))) as pool:
                outcomes = list(pool.map(self._score_one, samples))
        else:
            outcomes = [self._score_one(sample) for sample in samples]
        self.stats.record_batch(outcomes, kwargs.get("log_metric"))
        return [reward for reward, _ in outcomes]

    def _score_one(self, sample: tuple[str, str, Mapping[str, Any]]) -> tuple[float | None, str | None]:
        try:
            return float(self.score(*sample)), None
        except Unscored as failure:
            logger.debug("reward %s: %s (%s)", self.__name__,
                         "unscored" if failure.fallback is None else f"fallback {failure.fallback}", failure)
            return failure.fallback, failure.kind
        except HaetaeError:
            raise
        except Exception as error:  # a scorer's own failure: counted as "error", its type logged
            logger.warning("reward %s: scoring raised %s", self.__name__, type(error).__name__)
            logger.debug("reward %s: scoring raised %r", self.__name__, error)
            return None, "error"
