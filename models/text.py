"""Wording shared by the command lines and the app."""

from __future__ import annotations

import argparse


def count_of(count: int, noun: str) -> str:
    """'1 epoch', '2 epochs', '0 epochs' (nouns that take an s)."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


class DefaultsFormatter(argparse.HelpFormatter):
    """Adds "(default: X)" to options that have a default, and nothing to those that have none."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        unstated = default is None or default is False or default == "" or default == argparse.SUPPRESS
        if "(default" in text or unstated or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"
