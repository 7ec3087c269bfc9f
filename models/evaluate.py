"""Command-line evaluation: `python -m models.evaluate checkpoints/*.safetensors`.

Recomputes each checkpoint's test metrics with the same code the trainer uses and prints
them next to the metrics stored in the checkpoint (use --markdown for the README table).
"""

from __future__ import annotations

import argparse
import os
import sys

from models.evaluation.metrics import EvalMetrics, compute_metrics
from models.files.checkpoint import CheckpointError, load_checkpoint
from models.files.data import DATA_DIR_ENV, DataUnavailableError, load_split
from models.files.store import SHIPPED_DIRS, list_checkpoints
from models.text import DefaultsFormatter, count_of
from models.training.config import TrainConfig
from models.training.loop import evaluation_splits
from models.training.runtime import configure_torch

MARKDOWN_COLUMNS = (
    "file", "model", "epochs", "reconstruction", "KL", "ELBO", "MSE per pixel", "k-NN accuracy", "k-NN reference",
    "bytes", "command",
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m models.evaluate",
        description="Evaluate checkpoints on their test set.",
        formatter_class=DefaultsFormatter,
    )
    parser.add_argument(
        "paths", nargs="*", help="checkpoint files (default: every file in checkpoints/ and checkpoints/lessons/)"
    )
    parser.add_argument("--data-dir", help=f"data directory (default: ${DATA_DIR_ENV}, else data/ in the repository)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table row per checkpoint")
    args = parser.parse_args(argv)
    configure_torch(1)
    paths = args.paths or [str(p) for folder in SHIPPED_DIRS for p in list_checkpoints(folder)]
    status = 0
    if args.markdown:
        print("| " + " | ".join(MARKDOWN_COLUMNS) + " |")
        print("|" + "---|" * len(MARKDOWN_COLUMNS))
    for path in paths:
        try:
            model, info = load_checkpoint(path)
            training = TrainConfig.from_dict(info.training)
            test, reference = evaluation_splits(
                load_split(info.dataset, train=True, root=args.data_dir),
                load_split(info.dataset, train=False, root=args.data_dir),
                training,
            )
            metrics = compute_metrics(model, test, reference, k=training.knn_k, seed=training.seed).metrics
        except (CheckpointError, DataUnavailableError) as error:
            print(f"{path}: error: {error}", file=sys.stderr)
            status = 1
            continue
        if args.markdown:
            elbo = f"{metrics.elbo:.1f}" if metrics.elbo is not None else "-"
            mse = f"{metrics.mse:.4f}" if metrics.mse is not None else "-"
            cells = [f"`{os.path.relpath(path)}`", info.title, str(info.epochs), f"{metrics.reconstruction:.1f}",
                     f"{metrics.kl:.2f}", elbo, mse, f"{metrics.knn_accuracy:.1%}", f"{len(reference):,}",
                     f"{os.path.getsize(path):,}", f"`{info.command}`"]  # fmt: skip
            print("| " + " | ".join(cells) + " |")
        else:
            parameters = sum(p.numel() for p in model.parameters())
            print(f"{path}: {info.title} ({info.model}, {parameters:,} parameters, {count_of(info.epochs, 'epoch')})")
            print(f"  evaluated now: {metrics.summary()}")
            if info.metrics:
                print(f"  stored:        {EvalMetrics.from_dict(info.metrics).summary()}")
    return status


if __name__ == "__main__":
    sys.exit(main())
