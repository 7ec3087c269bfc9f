"""Wording shared by the command lines and the app."""

from __future__ import annotations


def count_of(count: int, noun: str) -> str:
    """'1 epoch', '2 epochs', '0 epochs' (nouns that take an s)."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
