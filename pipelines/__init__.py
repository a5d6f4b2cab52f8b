"""Batch data-audit pipelines (Apache Beam): PII, copyright/licence, dedup, policy, validation, report."""
