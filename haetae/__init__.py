"""Haetae: accountable data and alignment for frontier models."""

__version__ = "0.1.0"
