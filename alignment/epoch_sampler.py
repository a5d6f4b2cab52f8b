"""TRL's prompt sampler with a per-epoch shuffle that a resumed run can reproduce.

``RepeatSampler`` draws each epoch's permutation from one generator seeded once, so epoch ``e``'s order depends
on every earlier epoch having been iterated in this process. A run resumed in epoch ``e >= 1`` builds a fresh
sampler and replays epoch 0's order, training on other prompts than the uninterrupted run. Here epoch ``e`` is
shuffled by a generator seeded with ``seed + e`` (accelerate forwards ``Trainer``'s ``set_epoch`` to the sampler),
so the order is a function of the epoch alone; epoch 0 is the order TRL's sampler gives.
"""

from __future__ import annotations

from trl.trainer.utils import RepeatSampler


class EpochSeededRepeatSampler(RepeatSampler):
    epoch = 0

    @classmethod
    def like(cls, sampler: RepeatSampler) -> EpochSeededRepeatSampler:
        return cls(
            data_source=sampler.data_source,
            mini_repeat_count=sampler.mini_repeat_count,
            batch_size=sampler.batch_size,
            repeat_count=sampler.repeat_count,
            shuffle=sampler.shuffle,
            seed=sampler.seed,
        )

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        if self.shuffle and self.seed is not None:
            self.generator.manual_seed(self.seed + self.epoch)
        return super().__iter__()
