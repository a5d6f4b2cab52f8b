"""Train a Korean-aware byte-level BPE tokenizer with the EXAONE chat format, saved for ``AutoTokenizer``.

Pipeline (``tokenizers``): NFC normalisation -> split into Hangul runs, other-letter runs, 1-3 digit groups,
punctuation/symbol runs and whitespace (a run keeps its one leading space, GPT-style, so merges never cross a
script or a digit/letter boundary) -> byte-level mapping (every byte has a token; nothing is unknown) -> BPE.

The chat template renders the EXAONE role markers::

    [|system|]\\n{system}[|endofturn|]\\n[|user|]\\n{user}[|endofturn|]\\n[|assistant|]\\n{answer}[|endofturn|]\\n

``[|endofturn|]`` is the end-of-sequence token. An assistant turn's content and its ``[|endofturn|]`` sit inside
``{% generation %}`` markers (they render nothing): ``return_assistant_tokens_mask`` then marks exactly what SFT's
assistant-only loss trains, including the token that ends the turn. This follows EXAONE 3.5/4.0's ``[|role|]`` markers (a newline
after the marker as in EXAONE 4.0); ``<think>``/``</think>`` are reserved for reasoning traces.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

PAD, BOS, UNK, EOT = "[PAD]", "[BOS]", "[UNK]", "[|endofturn|]"
ROLE_MARKERS = {"system": "[|system|]", "user": "[|user|]", "assistant": "[|assistant|]", "tool": "[|tool|]"}
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
# Order fixes the ids: [PAD]=0, [BOS]=1, [|endofturn|]=2 (the named configs use these ids).
SPECIAL_TOKENS = [PAD, BOS, EOT, UNK, *ROLE_MARKERS.values(), THINK_OPEN, THINK_CLOSE]

# One leading space may attach to the run that follows it; Hangul never merges with Latin, digits or punctuation.
PRETOKENIZE_PATTERN = (
    r" ?\p{Hangul}+"
    r"| ?[^\s\p{Hangul}\p{N}\p{P}\p{S}]+"
    r"| ?\p{N}{1,3}"
    r"| ?[\p{P}\p{S}]+"
    r"|\s+(?!\S)"
    r"|\s+"
)

CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] not in ['system', 'user', 'assistant', 'tool'] -%}"
    "{{ raise_exception('unknown role: ' ~ message['role']) }}"
    "{%- endif -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{ '[|assistant|]\\n' }}{%- generation -%}{{ message['content'] ~ '[|endofturn|]' }}{%- endgeneration -%}"
    "{{ '\\n' }}"
    "{%- else -%}"
    "{{ '[|' ~ message['role'] ~ '|]\\n' ~ message['content'] ~ '[|endofturn|]\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '[|assistant|]\\n' }}{%- endif -%}"
)


def build_tokenizer():
    """An untrained ``tokenizers.Tokenizer`` with the normaliser, pre-tokeniser and decoder described above."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    return tok


def iter_corpus_lines(paths: Iterable[str | Path]) -> Iterator[str]:
    """Yield non-empty lines of UTF-8 text files; a missing or non-UTF-8 file raises a clear error."""
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"corpus file not found: {path}")
        try:
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    if line.strip():
                        yield line
        except UnicodeDecodeError as exc:
            raise ValueError(f"corpus file is not UTF-8 text: {path} ({exc.reason} at byte {exc.start})") from None


def train_tokenizer(corpus: Iterable[str | Path], vocab_size: int, out_dir: str | Path, min_frequency: int = 2):
    """Train on the corpus files, save a ``PreTrainedTokenizerFast`` to ``out_dir`` and return it."""
    from tokenizers import pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    n_base = len(pre_tokenizers.ByteLevel.alphabet()) + len(SPECIAL_TOKENS)
    if vocab_size < n_base:
        raise ValueError(f"vocab size {vocab_size} is below the {n_base} byte and special tokens it must hold")
    paths = [Path(p) for p in corpus]
    if not paths:
        raise ValueError("no corpus files given")
    tok = build_tokenizer()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    lines = iter_corpus_lines(paths)
    tok.train_from_iterator(lines, trainer=trainer)
    if tok.get_vocab_size() == n_base:
        raise ValueError("the corpus produced no merges (is it empty?)")
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOT,
        unk_token=UNK,
        pad_token=PAD,
        additional_special_tokens=[*ROLE_MARKERS.values(), THINK_OPEN, THINK_CLOSE],
        chat_template=CHAT_TEMPLATE,
        model_max_length=262_144,
        clean_up_tokenization_spaces=False,
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(out_dir)
    return fast
