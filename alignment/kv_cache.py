"""Hybrid KV cache for K-EXAONE: sliding-window layers keep only their last ``W - 1`` positions, global layers all.

transformers 5's ``DynamicCache(config=...)`` builds a ``DynamicSlidingWindowLayer`` (trim to ``W - 1`` keys after
each update; the new token's own key makes ``W``) for every ``sliding_attention`` layer. Its trim is a *view* of the
concatenated tensor, so after a prefill of L tokens each sliding layer still pins all L positions in memory until
the next step (measured: 300-token prefill, W=5 -> 38,400 bytes held for a 512-byte window).
:class:`HybridKVCache` uses :class:`CompactSlidingWindowLayer`, which copies the kept window out so the rest is
freed, checks the layer kinds against the config, and reports the bytes really held (storage, not view size).
Speculative decoding rolls a cache back by the rejected drafts: after ``activate_past_recording()`` a sliding layer
keeps its new positions until the next ``crop``, which trims it back to ``W - 1`` (compacted too).
:func:`kv_cache_bytes` computes the same from a config without allocating; :func:`relative_kv_cache` is the
methods.md formula.
"""

from __future__ import annotations

from transformers.cache_utils import DynamicCache, DynamicLayer, DynamicSlidingWindowLayer


def _text_config(config):
    return config.get_text_config(decoder=True) if hasattr(config, "get_text_config") else config


def _layer_kinds(config) -> list[str]:
    text = _text_config(config)
    kinds = list(getattr(text, "layer_types", None) or ["full_attention"] * text.num_hidden_layers)
    if "sliding_attention" in kinds and not getattr(text, "sliding_window", None):
        raise ValueError("config has sliding_attention layers but no sliding_window")
    return kinds


class CompactSlidingWindowLayer(DynamicSlidingWindowLayer):
    """Sliding-window cache layer whose kept ``W - 1`` positions own their storage (no view into the prefill)."""

    def update(self, key_states, value_states, *args, **kwargs):
        keys, values = super().update(key_states, value_states, *args, **kwargs)
        if not self.record_past:
            self._compact()
        return keys, values

    def crop(self, tokens_to_remove: int) -> None:
        if not self.is_initialized:  # transformers' sliding layer fails on an empty crop
            return
        super().crop(tokens_to_remove)
        self._compact()

    def _compact(self) -> None:
        for name in ("keys", "values"):
            kept = getattr(self, name)
            if kept is not None and kept.untyped_storage().nbytes() > kept.numel() * kept.element_size():
                setattr(self, name, kept.clone())


class HybridKVCache(DynamicCache):
    """``DynamicCache`` with a compact window layer per sliding layer and a growing one per global layer.

    ``layer_types`` overrides the config's (e.g. ``["sliding_attention"]`` for the one-layer cache of an MTP block).
    """

    def __init__(self, config, layer_types: list[str] | None = None) -> None:
        if layer_types is not None:
            super().__init__()
            window = getattr(_text_config(config), "sliding_window", None)
            if "sliding_attention" in layer_types and not window:
                raise ValueError("sliding_attention layers need a config with a sliding_window")
            self.layers = [
                CompactSlidingWindowLayer(sliding_window=window) if kind == "sliding_attention" else DynamicLayer()
                for kind in layer_types
            ]
            self.layer_kinds = list(layer_types)
            return
        kinds = _layer_kinds(config)
        super().__init__(config=config)
        for i, layer in enumerate(self.layers):
            if type(layer) is DynamicSlidingWindowLayer:
                self.layers[i] = CompactSlidingWindowLayer(sliding_window=layer.sliding_window)
        for i, (kind, layer) in enumerate(zip(kinds, self.layers)):
            sliding = isinstance(layer, DynamicSlidingWindowLayer)
            if (kind == "sliding_attention") != sliding or not isinstance(layer, DynamicLayer):
                raise TypeError(f"layer {i} is {kind} but its cache layer is {type(layer).__name__}")
        self.layer_kinds = kinds

    def nbytes(self) -> int:
        """Bytes of key and value storage currently held."""
        return cache_nbytes(self)

    def positions_held(self) -> list[int]:
        """Positions each layer holds now (0 for a layer not filled yet)."""
        return [0 if getattr(layer, "keys", None) is None else int(layer.keys.shape[-2]) for layer in self.layers]


def cache_nbytes(cache) -> int:
    """Bytes of key/value *storage* held by any transformers cache: a view counts its whole underlying buffer
    (each buffer once); layers not yet filled count 0."""
    seen, total = set(), 0
    for layer in cache.layers:
        for t in (getattr(layer, "keys", None), getattr(layer, "values", None)):
            if t is None or not hasattr(t, "untyped_storage"):
                continue
            storage = t.untyped_storage()
            if storage.data_ptr() not in seen:
                seen.add(storage.data_ptr())
                total += storage.nbytes()
    return total


def kv_cache_bytes(config, context: int, batch: int = 1, bytes_per_value: int = 2, all_global: bool = False) -> int:
    """KV-cache bytes for ``context`` tokens: 2 (K and V) x kv_heads x head_dim x positions kept, summed over layers.

    A sliding layer keeps ``min(W, context)`` positions (the window a decoding step attends to), a global layer
    ``context``; ``all_global=True`` gives the baseline with every layer global.
    """
    text = _text_config(config)
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    per_position = 2 * text.num_key_value_heads * head_dim * bytes_per_value * batch
    positions = 0
    for kind in _layer_kinds(config):
        sliding = kind == "sliding_attention" and not all_global
        positions += min(text.sliding_window, context) if sliding else context
    return positions * per_position


def relative_kv_cache(local_per_global: int, window: int, context: int) -> float:
    """methods.md section 1: ``(1 + r * min(W, L) / L) / (r + 1)``."""
    return (1 + local_per_global * min(window, context) / context) / (local_per_global + 1)
