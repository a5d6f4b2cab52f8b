"""MTP block: loss, mtp.* save/load, cached vs full forward, and exact self-speculative decoding."""

from __future__ import annotations

import copy
from collections import Counter

import pytest
import torch
from transformers import AutoModelForCausalLM

from haetae.alignment.configs import count_parameters, get_config
from haetae.alignment.generate import greedy_generate, mtp_speculative_generate
from haetae.alignment.mtp import ExaoneMoeWithMTP, has_mtp_weights

CYCLE = 48  # synthetic language: tokens 3..50, each followed by a fixed successor


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def untrained():
    torch.manual_seed(0)
    return ExaoneMoeWithMTP(get_config("tiny")).eval()


def cycle_batch(successor: torch.Tensor, n: int, length: int, gen: torch.Generator) -> torch.Tensor:
    x = torch.empty(n, length, dtype=torch.long)
    x[:, 0] = torch.randint(3, 3 + CYCLE, (n,), generator=gen)
    for i in range(1, length):
        x[:, i] = successor[x[:, i - 1] - 3]
    return x


@pytest.fixture(scope="module")
def trained():
    """A tiny model trained (30 steps) until both heads predict the successor language."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    successor = torch.randperm(CYCLE, generator=gen) + 3
    model = ExaoneMoeWithMTP(get_config("tiny"))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = last = None
    for _ in range(30):
        x = cycle_batch(successor, 8, 24, gen)
        out = model(input_ids=x, labels=x)
        out.loss.backward()
        opt.step()
        opt.zero_grad()
        first = first or (out.main_loss.item(), out.mtp_loss.item())
        last = (out.main_loss.item(), out.mtp_loss.item())
    assert last[0] < first[0] / 3 and last[1] < first[1] / 3, (first, last)
    return model.eval()


def test_mtp_block_size_matches_analytic_count():
    model = ExaoneMoeWithMTP(get_config("tiny"))
    counts = count_parameters(model.config, include_mtp=True)
    assert sum(p.numel() for p in model.mtp.parameters()) == counts.mtp
    assert sum(p.numel() for p in model.parameters()) == counts.total


def test_loss_adds_weighted_mtp_term(untrained):
    ids = torch.randint(3, 2048, (2, 20), generator=torch.Generator().manual_seed(1))
    labels = ids.clone()
    labels[0, :5] = -100
    with torch.no_grad():
        out = untrained(input_ids=ids, labels=labels)
        # By hand: the block at t sees (h_t, x_{t+1}) and is scored on x_{t+2}.
        hidden = out.last_hidden_state
        pos = torch.arange(19).unsqueeze(0)
        _, logits = untrained.mtp_forward(hidden[:, :-1], ids[:, 1:], pos)
        target = labels[:, 2:]
        want = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), target.reshape(-1),
                                                 ignore_index=-100)
    assert untrained.config.mtp_loss_weight == 0.05
    torch.testing.assert_close(out.mtp_loss, want)
    torch.testing.assert_close(out.loss, out.main_loss + 0.05 * out.mtp_loss)


@pytest.mark.parametrize("kind", ["sliding_attention", "full_attention"])
def test_cached_mtp_forward_matches_full_sequence(kind):
    from transformers import DynamicCache

    torch.manual_seed(0)
    model = ExaoneMoeWithMTP(get_config("tiny", mtp_layer_types=[kind])).eval()
    assert model.mtp.layers[0].self_attn.is_sliding == (kind == "sliding_attention")
    gen = torch.Generator().manual_seed(2)
    hidden = torch.randn(1, 30, 64, generator=gen)  # longer than the window (16)
    ids = torch.randint(3, 2048, (1, 30), generator=gen)
    pos = torch.arange(30).unsqueeze(0)
    with torch.no_grad():
        full, _ = model.mtp_forward(hidden, ids, pos)
        cache, parts = DynamicCache(), []
        for start, stop in ((0, 7), (7, 8), (8, 25), (25, 30)):
            g, _ = model.mtp_forward(hidden[:, start:stop], ids[:, start:stop], pos[:, start:stop], cache=cache)
            parts.append(g)
        # The kind matters (window + RoPE for sliding, NoPE for global): outputs differ.
        other = "full_attention" if kind == "sliding_attention" else "sliding_attention"
        model.config.mtp_layer_types = [other]
        model.mtp.layers[0].self_attn.is_sliding = not model.mtp.layers[0].self_attn.is_sliding
        switched, _ = model.mtp_forward(hidden, ids, pos)
    torch.testing.assert_close(torch.cat(parts, 1), full, rtol=1e-5, atol=1e-5)
    assert (switched - full).abs().max() > 1e-3


def test_mtp_tensor_names_follow_published_checkpoint_layout(untrained):
    names = {k.split(".layers.0.")[0] if ".layers.0." in k else k for k in untrained.mtp.state_dict()}
    assert names == {"pre_fc_norm_embedding.weight", "pre_fc_norm_hidden.weight", "fc.weight", "norm.weight"} | {
        n for n in names if n.startswith("layers.0")
    }
    layer_keys = {k for k in untrained.mtp.state_dict() if k.startswith("layers.0.")}
    assert "layers.0.mlp.gate_proj.weight" in layer_keys and "layers.0.self_attn.q_norm.weight" in layer_keys
    assert not any("experts" in k for k in layer_keys)  # dense FFN


def test_mtp_weights_saved_and_restored(untrained, tmp_path):
    untrained.save_pretrained(tmp_path)
    assert has_mtp_weights(tmp_path)
    restored = ExaoneMoeWithMTP.from_pretrained(tmp_path).eval()
    for (name, a), (_, b) in zip(untrained.mtp.state_dict().items(), restored.mtp.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    plain = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert type(plain).__name__ == "ExaoneMoeForCausalLM" and not hasattr(plain, "mtp")
    ids = torch.randint(3, 2048, (1, 12))
    with torch.no_grad():
        torch.testing.assert_close(plain(input_ids=ids).logits, untrained(input_ids=ids).logits)


def random_prompts(n: int, seed: int, high: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randint(3, high, (1, int(torch.randint(1, 20, (), generator=gen))), generator=gen) for _ in range(n)]


def test_greedy_matches_transformers_generate(untrained):
    for ids in random_prompts(2, 3, 2048):
        ours = greedy_generate(untrained, ids, 12).tokens
        theirs = untrained.generate(ids, max_new_tokens=12, min_new_tokens=12, do_sample=False)
        assert ours == theirs[0, ids.shape[1]:].tolist()


@pytest.mark.parametrize("draft_tokens", [1, 2, 3])
def test_speculative_equals_greedy_untrained(untrained, draft_tokens):
    for ids in random_prompts(3, 4, 2048):
        want = greedy_generate(untrained, ids, 20)
        got = mtp_speculative_generate(untrained, ids, 20, draft_tokens)
        assert got.tokens == want.tokens
        assert got.main_steps <= want.main_steps


def test_speculative_equals_greedy_trained_with_every_acceptance_count(trained):
    """Trained drafts are accepted; a perturbed MTP block gives every accepted count 0..K: output never changes."""
    noisy = copy.deepcopy(trained)
    with torch.no_grad():
        noisy.mtp.fc.weight.add_(0.1 * torch.randn(noisy.mtp.fc.weight.shape,
                                                          generator=torch.Generator().manual_seed(1)))
    seen: Counter = Counter()
    for model, name in ((trained, "trained"), (noisy, "noisy")):
        for ids in random_prompts(4, 5, 3 + CYCLE):
            want = greedy_generate(model, ids, 24).tokens
            for k in (1, 2, 3):
                got = mtp_speculative_generate(model, ids, 24, k)
                assert got.tokens == want, (name, k, ids)
                seen.update((name, k, a) for a in got.accepted_per_step)
                if name == "trained":
                    assert got.acceptance_rate > 0.9 and got.tokens_per_step > 1 + 0.5 * k
    for a in range(4):
        assert seen[("noisy", 3, a)] > 0, seen


def test_speculative_stops_at_eos_and_budget(trained):
    ids = random_prompts(1, 6, 3 + CYCLE)[0]
    full = greedy_generate(trained, ids, 20).tokens
    eos = full[7]
    for k in (1, 3):
        got = mtp_speculative_generate(trained, ids, 20, k, eos_token_id=eos).tokens
        assert got == greedy_generate(trained, ids, 20, eos_token_id=eos).tokens == full[: full.index(eos) + 1]
        assert mtp_speculative_generate(trained, ids, 5, k).tokens == full[:5]


def test_speculative_rejects_bad_input(untrained):
    with pytest.raises(ValueError, match="draft_tokens"):
        mtp_speculative_generate(untrained, torch.tensor([[5, 6]]), 4, 0)
    with pytest.raises(ValueError, match="one non-empty prompt"):
        mtp_speculative_generate(untrained, torch.zeros(2, 3, dtype=torch.long), 4, 1)
    plain = AutoModelForCausalLM.from_config(get_config("tiny"))
    with pytest.raises(TypeError, match="ExaoneMoeWithMTP"):
        mtp_speculative_generate(plain, torch.tensor([[5, 6]]), 4, 1)


def test_generate_cli_plain_and_speculative_agree(tmp_path, capsys):
    from pathlib import Path

    from haetae.cli import main

    corpus = Path(__file__).resolve().parents[2] / "pipelines" / "data" / "legal" / "ko_constitution.txt"
    tok, ckpt, plain = tmp_path / "tok", tmp_path / "ckpt", tmp_path / "plain"
    assert main(["tokenizer", "train", str(corpus), "--vocab-size", "600", "--out", str(tok)]) == 0
    assert main(["model", "init", "--config", "tiny", "--out", str(ckpt), "--tokenizer", str(tok)]) == 0
    assert AutoModelForCausalLM.from_pretrained(ckpt).config.vocab_size == 600
    capsys.readouterr()
    common = ["generate", "--model", str(ckpt), "--prompt", "대한민국은", "--max-new-tokens", "12", "--ignore-eos"]
    assert main(common) == 0
    greedy = capsys.readouterr()
    assert main([*common, "--speculative", "mtp", "--draft-tokens", "3"]) == 0
    speculative = capsys.readouterr()
    assert speculative.out == greedy.out and greedy.out.strip()
    assert "acceptance" in speculative.err and "tokens/step" in greedy.err
    assert "attention haetae_hybrid" in greedy.err  # the project's kernel, not sdpa
    window = get_config("tiny").sliding_window
    assert f"at most {window - 1} positions per sliding layer" in greedy.err  # the prompt + 11 tokens exceed W
    assert main([*common, "--chat"]) == 0
    # Error paths: a checkpoint without mtp.* weights, a missing directory, a bad draft length.
    assert main(["model", "init", "--config", "tiny", "--out", str(plain), "--tokenizer", str(tok), "--no-mtp"]) == 0
    assert not has_mtp_weights(plain)
    capsys.readouterr()
    assert main(["generate", "--model", str(plain), "--prompt", "가", "--speculative", "mtp"]) == 2
    assert "no mtp.* weights" in capsys.readouterr().err
    assert main(["generate", "--model", str(tmp_path / "nope"), "--prompt", "가"]) == 2
    assert "not a model directory" in capsys.readouterr().err
    assert main([*common, "--speculative", "mtp", "--draft-tokens", "0"]) == 2


def test_speculative_with_haetae_hybrid_attention_equals_eager_greedy(trained):
    import haetae.alignment.attention as hybrid

    model = copy.deepcopy(trained)
    model.set_attn_implementation(hybrid.NAME)
    for ids in random_prompts(2, 8, 3 + CYCLE):
        want = greedy_generate(trained, ids, 24).tokens  # sdpa
        assert greedy_generate(model, ids, 24).tokens == want
        assert mtp_speculative_generate(model, ids, 24, 2).tokens == want
