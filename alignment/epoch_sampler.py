"""TRL's prompt sampler with a per-epoch shuffle that a resumed run can reproduce.

``RepeatSampler`` draws each epoch's permutation from one generator seeded once, so epoch ``e``'s order depends
on every earlier epoch having been iterated in this process. A run resumed in epoch ``e >= 1`` builds a fresh
sampler and replays epoch 0's order, training on other prompts than the uninterrupted run. Here epoch ``e`` is
shuffled by a generator seeded with ``seed + e``, so the order is a function of the epoch alone; epoch 0 is the
order TRL's sampler gives. The epoch is read when iteration starts (``epoch_of``, the trainer's state), not
pushed by ``set_epoch``: through a resumed multi-process dataloader (accelerate's ``SkipBatchSampler`` around a
``BatchSamplerShard``) ``set_epoch`` never reaches the sampler.
"""

from __future__ import annotations

from collections.abc import Callable

from trl.trainer.utils import RepeatSampler


class EpochSeededRepeatSampler(RepeatSampler):
    def __init__(self, *args, epoch_of: Callable[[], int], **kwargs):
        super().__init__(*args, **kwargs)
        self.epoch_of = epoch_of

    @classmethod
    def like(cls, sampler: RepeatSampler, epoch_of: Callable[[], int]) -> EpochSeededRepeatSampler:
        return cls(
            data_source=sampler.data_source,
            mini_repeat_count=sampler.mini_repeat_count,
            batch_size=sampler.batch_size,
            repeat_count=sampler.repeat_count,
            shuffle=sampler.shuffle,
            seed=sampler.seed,
            epoch_of=epoch_of,
        )

    def __iter__(self):
        if self.shuffle and self.seed is not None:
            self.generator.manual_seed(self.seed + self.epoch_of())
        return super().__iter__()
