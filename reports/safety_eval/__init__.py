"""KGC-SAFETY-style evaluation on inspect-ai: the task, the Haetae model provider, and the run command."""
