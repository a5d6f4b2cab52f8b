"""Configuration of GrouPER (group-wise SimPER, methods.md section 3); SimPER is ``num_generations=2``.

GrouPER trains offline on groups sampled once from the initial policy, so it is a ``transformers``
``TrainingArguments`` (no generation settings), not a ``GRPOConfig``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers import TrainingArguments

from haetae.errors import UsageError


@dataclass
class GrouPERConfig(TrainingArguments):
    num_generations: int = field(
        default=4,
        metadata={"help": "Responses per prompt (G) in the cached groups; 2 is SimPER."},
    )
    max_length: int = field(
        default=1024,
        metadata={"help": "Prompt + response tokens kept per sequence; longer responses are cut at the end."},
    )
    remove_unused_columns: bool = field(
        default=False,
        metadata={"help": "Must stay False: the collator needs the prompt, responses and rewards columns."},
    )

    def __post_init__(self):
        if self.num_generations < 2:
            raise UsageError(f"GrouPERConfig.num_generations={self.num_generations}: a group needs G >= 2")
        if self.max_length < 2:
            raise UsageError(f"GrouPERConfig.max_length={self.max_length}: keep at least 2 tokens")
        if self.remove_unused_columns:
            raise UsageError(
                "GrouPERConfig.remove_unused_columns=True: set it to False (the collator reads them)"
            )
        super().__post_init__()
