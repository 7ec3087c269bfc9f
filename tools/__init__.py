"""Developer tools run from the checkout: `python -m tools.take_screenshots`, browser helpers."""
