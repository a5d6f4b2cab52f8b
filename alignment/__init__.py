"""K-EXAONE model toolkit and alignment trainers.

Toolkit: configs, tokenizer, hybrid-attention kernels, MTP, LoRA, KV cache, memory plan, generation.
Alignment (methods.md sections 2-3): ``objectives`` (AGAPO / SimPER / GrouPER math as pure functions with a
registry), ``AGAPOConfig`` / ``AGAPOTrainer`` (TRL ``GRPOTrainer`` subclasses, variants ``exaone4`` and
``kexaone``), ``GrouPERConfig`` / ``GrouPERTrainer`` (offline on cached groups; SimPER at G = 2), ``judges`` (the
``Judge`` interface rewards plug into) and ``sampling`` (the offline sample-and-score passes).
"""
