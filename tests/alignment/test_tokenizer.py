"""Korean-aware byte-level BPE trained on the bundled Constitution of Korea (public legal text, see pipelines/data/legal/PROVENANCE.md)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from haetae.alignment.tokenizer import PRETOKENIZE_PATTERN, SPECIAL_TOKENS, build_tokenizer, train_tokenizer
from haetae.cli import main

CORPUS = Path(__file__).resolve().parents[2] / "pipelines" / "data" / "legal" / "ko_constitution.txt"


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("tok")
    assert main(["tokenizer", "train", str(CORPUS), "--vocab-size", "1024", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def tok(tok_dir):
    return AutoTokenizer.from_pretrained(tok_dir)


def test_loads_with_autotokenizer_and_special_ids(tok):
    assert len(tok) == 1024
    assert (tok.pad_token, tok.bos_token, tok.eos_token) == ("[PAD]", "[BOS]", "[|endofturn|]")
    assert (tok.pad_token_id, tok.bos_token_id, tok.eos_token_id) == (0, 1, 2)  # the named configs' ids
    for special in SPECIAL_TOKENS:
        assert tok(special, add_special_tokens=False)["input_ids"] == [tok.convert_tokens_to_ids(special)]


def test_learned_korean_merges_from_the_corpus(tok):
    text = "대한민국은 민주공화국이다."
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert len(ids) < len(text.encode("utf-8")) / 3  # merges beat raw bytes by a wide margin
    assert "대한민국" in tok.decode(ids[:2])


@pytest.mark.parametrize(
    "text",
    ["제1조 ① 대한민국은 민주공화국이다.", "GPT-4와  한국어abc123\n\t끝", "Straße 東京 😀 ¼", "  leading and trailing  "],
)
def test_roundtrip_is_lossless(tok, text):
    assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text


def test_nfc_normalisation(tok):
    composed = "헌법 제10조"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert tok(decomposed)["input_ids"] == tok(composed)["input_ids"]


def test_pretokeniser_separates_hangul_latin_digits_and_punctuation():
    from tokenizers import Regex, pre_tokenizers

    split = pre_tokenizers.Split(Regex(PRETOKENIZE_PATTERN), behavior="isolated")
    pieces = [p for p, _ in split.pre_tokenize_str("국회법abc제12345조!? 가나 Seoul")]
    assert pieces == ["국회법", "abc", "제", "123", "45", "조", "!?", " 가나", " Seoul"]
    # The full pre-tokeniser then maps bytes: the same pieces, byte-encoded (space -> "Ġ").
    mapped = [p for p, _ in build_tokenizer().pre_tokenizer.pre_tokenize_str("국회법abc 가나")]
    assert len(mapped) == 3 and mapped[1] == "abc" and mapped[2].startswith("Ġ")


def test_chat_template_uses_exaone_role_markers(tok):
    messages = [
        {"role": "system", "content": "너는 법률 도우미다."},
        {"role": "user", "content": "헌법 제1조는?"},
        {"role": "assistant", "content": "대한민국은 민주공화국이다."},
        {"role": "user", "content": "고마워"},
    ]
    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == (
        "[|system|]\n너는 법률 도우미다.[|endofturn|]\n[|user|]\n헌법 제1조는?[|endofturn|]\n"
        "[|assistant|]\n대한민국은 민주공화국이다.[|endofturn|]\n[|user|]\n고마워[|endofturn|]\n[|assistant|]\n"
    )
    ids = tok.apply_chat_template(messages, add_generation_prompt=True, return_dict=False)
    assert ids[0] == tok.convert_tokens_to_ids("[|system|]")
    assert ids.count(tok.eos_token_id) == 4
    assert tok.decode(ids) == text
    with pytest.raises(Exception, match="unknown role"):
        tok.apply_chat_template([{"role": "robot", "content": "x"}], tokenize=False)


def test_bad_inputs(tmp_path, capsys):
    assert main(["tokenizer", "train", str(tmp_path / "missing.txt"), "--vocab-size", "500", "--out", str(tmp_path)]) == 2
    assert "not found" in capsys.readouterr().err
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert main(["tokenizer", "train", str(binary), "--vocab-size", "500", "--out", str(tmp_path / "o")]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    with pytest.raises(ValueError, match="below"):
        train_tokenizer([CORPUS], 100, tmp_path / "small")
