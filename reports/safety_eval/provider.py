"""An inspect-ai model provider for Haetae checkpoints: ``haetae/<checkpoint dir>``.

``haetae model init`` checkpoints, trained ones (full weights, or a LoRA adapter directory whose
``adapter_config.json`` names its base), and a real K-EXAONE directory are all loaded through transformers the
same way, so every model is evaluated by one code path. With ``speculative=true`` (``-M speculative=true``) and
a checkpoint that has MTP weights, decoding is MTP self-speculative (same greedy output, fewer main-model
steps). Tokens are counted with the checkpoint's own tokenizer: inspect's default counter calls tiktoken, which
downloads an encoding and fails offline. Generation is serialised (one model in this process; batch size 1).
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

from inspect_ai.model import ChatMessage, GenerateConfig, ModelAPI, ModelOutput, modelapi
from inspect_ai.tool import ToolChoice, ToolInfo

DEFAULT_MAX_NEW_TOKENS = 256


def load_checkpoint(path: str | Path, base: str | None = None):
    """``(model, tokenizer)`` of a checkpoint directory, a LoRA adapter directory merged onto its base."""
    import torch  # noqa: F401  (transformers needs it loaded)
    from transformers import AutoTokenizer

    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such checkpoint directory")
    adapter = path / "adapter_config.json"
    if adapter.exists():
        from peft import PeftModel

        base_dir = base or json.loads(adapter.read_text(encoding="utf-8")).get("base_model_name_or_path")
        if not base_dir or not Path(base_dir).is_dir():
            raise FileNotFoundError(f"{path}: LoRA adapter whose base {base_dir!r} is not a directory here; "
                                    "pass -M base=DIR")
        model = PeftModel.from_pretrained(_load_model(base_dir), str(path)).merge_and_unload()
        tok_dir = path if (path / "tokenizer_config.json").exists() else Path(base_dir)
        return model.eval(), AutoTokenizer.from_pretrained(tok_dir)
    return _load_model(path).eval(), AutoTokenizer.from_pretrained(path)


def _load_model(path: str | Path):
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(path)
    if getattr(config, "model_type", "") == "exaone_moe":
        from haetae.alignment.mtp import ExaoneMoeWithMTP

        return ExaoneMoeWithMTP.from_pretrained(path)  # loads mtp.* weights when present, else a fresh block
    return AutoModelForCausalLM.from_pretrained(path)


def _has_mtp_weights(path: Path) -> bool:
    from safetensors import safe_open

    for file in path.glob("*.safetensors"):
        with safe_open(str(file), framework="pt") as f:
            if any(k.startswith("mtp.") for k in f.keys()):  # noqa: SIM118 (safe_open has no __iter__)
                return True
    return False


@modelapi(name="haetae")
class HaetaeModelAPI(ModelAPI):
    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig | None = None, speculative: bool | str = False,
                 draft_tokens: int = 2, base: str | None = None, **_: Any) -> None:
        super().__init__(model_name, base_url, api_key, [], config or GenerateConfig())
        self.path = Path(model_name)
        self.model, self.tokenizer = load_checkpoint(self.path, base)
        self.speculative = str(speculative).lower() in ("1", "true", "yes")
        if self.speculative and not _has_mtp_weights(self.path):
            raise ValueError(f"{self.path}: speculative=true needs a checkpoint with trained MTP (mtp.*) weights")
        self.draft_tokens = int(draft_tokens)
        self._lock = threading.Lock()

    def max_connections(self) -> int:
        return 1

    async def count_text_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    async def generate(self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice,
                       config: GenerateConfig) -> ModelOutput:
        messages = [{"role": m.role, "content": m.text} for m in input]
        text = await asyncio.to_thread(self._generate, messages, config)
        return ModelOutput.from_content(model=str(self.path), content=text)

    def _generate(self, messages: list[dict[str, str]], config: GenerateConfig) -> str:
        import torch

        from haetae.alignment.generate import mtp_speculative_generate

        prompt = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        ids = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
        max_new = config.max_tokens or DEFAULT_MAX_NEW_TOKENS
        with self._lock, torch.no_grad():
            if self.speculative:
                tokens = mtp_speculative_generate(self.model, ids, max_new, self.draft_tokens,
                                                  eos_token_id=self.tokenizer.eos_token_id).tokens
            else:
                sample = bool(config.temperature) and config.temperature > 0
                kwargs = {"do_sample": sample, "max_new_tokens": max_new, "pad_token_id": self.tokenizer.pad_token_id,
                          "eos_token_id": self.tokenizer.eos_token_id}
                if sample:
                    kwargs["temperature"] = config.temperature
                    torch.manual_seed(config.seed or 0)
                tokens = self.model.generate(ids, **kwargs)[0, ids.size(1):].tolist()
        return self.tokenizer.decode(tokens, skip_special_tokens=True)
