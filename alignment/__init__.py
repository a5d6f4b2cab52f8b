"""K-EXAONE model toolkit: configs, tokenizer, hybrid-attention kernels, MTP, LoRA, AGAPO/GrouPER trainers."""
