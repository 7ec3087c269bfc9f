"""Command-line evaluation: `python -m models.evaluate checkpoints/*.safetensors`.

Recomputes each checkpoint's test metrics with the same code the trainer uses and prints
them next to the metrics stored in the checkpoint (use --markdown for the README table).
--store-view writes the plot view of the test codes into checkpoints trained before
checkpoints carried one (weights and metrics unchanged, written atomically).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

from models.checkpoint import CheckpointError, list_checkpoints, load_checkpoint, save_checkpoint
from models.data import DATA_DIR_ENV, DataUnavailableError, load_split
from models.latent import plot_view
from models.metrics import encode_all, evaluate
from models.train import format_metrics
from models.training import TrainConfig, configure_torch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m models.evaluate",
        description="Evaluate checkpoints on their test set.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", help="checkpoint files (default: every file in checkpoints/)")
    parser.add_argument("--data-dir", help=f"data directory (default: ${DATA_DIR_ENV}, else data/ in the repository)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table row per checkpoint")
    parser.add_argument(
        "--store-view", action="store_true", help="save the plot view of the test codes into each checkpoint"
    )
    args = parser.parse_args(argv)
    configure_torch(1)
    paths = args.paths or [str(p) for p in list_checkpoints()]
    status = 0
    for path in paths:
        try:
            model, info = load_checkpoint(path)
            training = TrainConfig(**{**info.training, "subset": None}) if info.training else TrainConfig()
            reference = load_split(info.dataset, train=True, root=args.data_dir).sample(
                training.knn_reference, training.seed
            )
            test = load_split(info.dataset, train=False, root=args.data_dir)
            metrics = evaluate(model, test, reference, k=training.knn_k, seed=training.seed)
        except (CheckpointError, DataUnavailableError) as error:
            print(f"{path}: error: {error}", file=sys.stderr)
            status = 1
            continue
        if args.store_view:
            view = plot_view(encode_all(model, test.images)).to_dict()
            save_checkpoint(path, model, replace(info, view=view), replace_shipped=True)  # weights unchanged
        parameters = sum(p.numel() for p in model.parameters())
        if args.markdown:
            elbo = f"{metrics.elbo:.1f}" if metrics.elbo is not None else "-"
            cells = [f"`{os.path.relpath(path)}`", info.title, str(info.epochs), f"{metrics.reconstruction:.1f}",
                     f"{metrics.kl:.2f}", elbo, f"{metrics.knn_accuracy:.1%}", f"`{info.command}`"]  # fmt: skip
            print("| " + " | ".join(cells) + " |")
        else:
            print(f"{path}: {info.title} ({info.model}, {parameters:,} parameters, {info.epochs} epochs)")
            print(f"  evaluated now: {format_metrics(metrics)}")
            if info.metrics:
                print(f"  stored:        {format_metrics(info.metrics)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
