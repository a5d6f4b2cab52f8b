"""The rows each training stage reads, from JSONL files or the built-in toy task, checked row by row.

- SFT: chat rows (``messages``: the safety generator's ``train_sft.jsonl``) and plain text rows (``text``) in one
  dataset, tokenised here into ``input_ids`` + ``assistant_masks`` (TRL builds the labels from the mask): chat rows
  train on the assistant turns (content and ``[|endofturn|]``) when ``assistant_only_loss``, text rows on every
  token. Tokenising here is what lets the two kinds mix: TRL decides chat-or-text once, from the first row.
- AGAPO: rows with a ``prompt`` (text, or chat messages) and the columns its rewards read (``answer`` for
  ``math_answer``); ``arithmetic`` builds the toy task (small sums with gold answers).
- GrouPER: cached groups (``prompt``, ``responses``, ``rewards``), the safety generator's ``preference.jsonl``
  (``completions`` as assistant messages, ``rewards``), or prompts alone (sampled and judged by the trainer).

A row that fits none of these is a one-line error naming ``file:line``; nothing is skipped silently.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from haetae.errors import UsageError

ARITHMETIC = "arithmetic"
ARITHMETIC_ROWS = 64


def data_files(spec: str | list[str] | None, stage: str) -> list[Path]:
    """The JSONL files of ``STAGE.data`` (an empty list for the built-in task); a missing file is a UsageError."""
    if spec is None:
        raise UsageError(f"{stage}.data is not set: give {stage}.data=PATH.jsonl (or a list of files)")
    if spec == ARITHMETIC:
        return []
    files = [Path(p) for p in ([spec] if isinstance(spec, str) else spec)]
    for path in files:
        if not path.is_file():
            raise UsageError(f"{stage}.data: {path} is not a file; give a JSONL file (or {ARITHMETIC!r} for agapo)")
    return files


def read_rows(files: Sequence[Path], limit: int | None = None) -> list[dict[str, Any]]:
    """JSON objects, one a line, each tagged with ``_where`` (``file:line``) for error messages."""
    rows: list[dict[str, Any]] = []
    for path in files:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if limit is not None and len(rows) >= limit:
                    return rows
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    raise UsageError(f"{where}: not JSON ({err.msg})") from None
                except UnicodeDecodeError:
                    raise UsageError(f"{where}: not UTF-8 text") from None
                if not isinstance(row, dict):
                    raise UsageError(f"{where}: a row must be a JSON object")
                rows.append({**row, "_where": where})
    if not rows:
        raise UsageError(f"{', '.join(map(str, files))}: no rows")
    return rows


def arithmetic_rows(n: int = ARITHMETIC_ROWS, seed: int = 0) -> list[dict[str, Any]]:
    """The toy verifiable task: ``"12+7="`` with gold answer ``"19"`` (sums of two numbers below 20)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        a, b = rng.randrange(20), rng.randrange(20)
        rows.append({"prompt": f"{a}+{b}=", "answer": str(a + b), "_where": f"{ARITHMETIC}:{i + 1}"})
    return rows


def stage_rows(spec: str | list[str] | None, stage: str, limit: int | None, seed: int = 0) -> list[dict[str, Any]]:
    if spec == ARITHMETIC:
        if stage != "agapo":
            raise UsageError(f"{stage}.data={ARITHMETIC!r}: the toy task has prompts and answers only; it is for agapo")
        return arithmetic_rows(limit or ARITHMETIC_ROWS, seed)
    return read_rows(data_files(spec, stage), limit)


def is_chat(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in value)


def tokenize_sft_rows(rows: Sequence[dict[str, Any]], tokenizer, assistant_only_loss: bool) -> dict[str, list]:
    """``{"input_ids", "assistant_masks"}`` columns for SFTTrainer (a pre-tokenised dataset)."""
    ids_column, mask_column = [], []
    for row in rows:
        where = row["_where"]
        if "messages" in row:
            if not is_chat(row["messages"]):
                raise UsageError(f"{where}: 'messages' must be a list of {{role, content}} strings")
            if assistant_only_loss and not any(m["role"] == "assistant" for m in row["messages"]):
                raise UsageError(f"{where}: a chat row without an assistant turn has nothing to train on "
                                 "(assistant_only_loss); drop the row or set sft.assistant_only_loss=false")
            try:
                out = tokenizer.apply_chat_template(row["messages"], tokenize=True, return_dict=True,
                                                    return_assistant_tokens_mask=assistant_only_loss)
            except Exception as exc:  # the template raises for an unknown role
                raise UsageError(f"{where}: the chat template cannot render this row ({exc})") from None
            ids = list(out["input_ids"])
            mask = list(out["assistant_masks"]) if assistant_only_loss else [1] * len(ids)
            if assistant_only_loss and 1 not in mask:
                raise UsageError(f"{where}: the tokenizer's chat template marks no assistant tokens; it needs "
                                 "{% generation %} markers (the project's tokenizer has them: retrain or copy "
                                 "haetae.alignment.tokenizer.CHAT_TEMPLATE into tokenizer_config.json)")
        elif isinstance(row.get("text"), str):
            ids = tokenizer(row["text"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
            mask = [1] * len(ids)
        else:
            raise UsageError(f"{where}: an SFT row needs chat 'messages' or a 'text' string")
        ids_column.append(ids)
        mask_column.append(mask)
    return {"input_ids": ids_column, "assistant_masks": mask_column}


def prompt_text(prompt: Any, tokenizer, where: str) -> str:
    """A prompt as the text the policy continues: chat messages rendered with the generation prompt."""
    if isinstance(prompt, str):
        return prompt
    if is_chat(prompt):
        return tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    raise UsageError(f"{where}: 'prompt' must be a string or chat messages")


def agapo_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows for GRPOTrainer: the prompt and the columns the rewards read (every row must have them)."""
    out = []
    for row in rows:
        missing = [c for c in ("prompt", *columns) if c not in row]
        if missing:
            raise UsageError(f"{row['_where']}: no column {', '.join(missing)} (the agapo rewards read it)")
        if not isinstance(row["prompt"], str) and not is_chat(row["prompt"]):
            raise UsageError(f"{row['_where']}: 'prompt' must be a string or chat messages")
        out.append({"prompt": row["prompt"], **{c: row[c] for c in columns}})
    return out


def grouper_rows(rows: Sequence[dict[str, Any]], tokenizer, group_size: int) -> tuple[list[dict], list[dict]]:
    """``(scored groups, prompts to sample)``: rows already scored become groups, bare prompts are returned apart."""
    groups, prompts = [], []
    for row in rows:
        where = row["_where"]
        if "prompt" not in row:
            raise UsageError(f"{where}: a grouper row needs a 'prompt'")
        text = prompt_text(row["prompt"], tokenizer, where)
        responses = row.get("responses")
        if responses is None and isinstance(row.get("completions"), list):  # the safety generator's preference rows
            responses = [c[-1]["content"] if is_chat(c) else c for c in row["completions"]]
        if responses is None:
            prompts.append({"prompt": text, "_where": where})
            continue
        rewards = row.get("rewards")
        if not isinstance(responses, list) or not all(isinstance(r, str) for r in responses):
            raise UsageError(f"{where}: 'responses' must be a list of strings")
        if len(responses) != group_size or not isinstance(rewards, list) or len(rewards) != group_size:
            raise UsageError(f"{where}: expected {group_size} responses and as many rewards; set "
                             f"grouper.num_generations to the data's group size")
        groups.append({"prompt": text, "responses": responses,
                       "rewards": [float("nan") if r is None else float(r) for r in rewards]})
    return groups, prompts
