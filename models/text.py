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


def describe_error(error: BaseException) -> str:
    """An error in words for a page: never a path of the server (an OSError by its reason alone)."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror[0].lower() + error.strerror[1:]  # "No space left on device", without the file
    # The project's own errors, and ValueErrors, already read as sentences; anything else also needs
    # its type to make sense.
    ours = type(error).__module__.split(".")[0] in ("models", "app")
    if (ours or isinstance(error, ValueError)) and str(error):
        return str(error)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def sentence(text: str) -> str:
    """`text` ending in a full stop, so that the next sentence can follow it."""
    return text if text.endswith((".", "!", "?")) else text + "."
