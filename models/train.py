"""Command-line training: `python -m models.train --preset dense_vae_2d --out checkpoints/NAME`.

Trains with the shared engine (`models.training`), shows a tqdm progress bar, writes the
checkpoint atomically after every completed epoch (so an interrupted or diverging run
keeps its last good epoch) and prints the test metrics at the end.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from dataclasses import asdict, replace
from pathlib import Path

from tqdm import tqdm

from models.checkpoint import CHECKPOINT_DIR, CheckpointInfo, save_checkpoint
from models.data import DATA_DIR_ENV, DATASETS, DataUnavailableError, load_split
from models.metrics import EvalMetrics
from models.presets import get_preset, list_presets
from models.training import EpochResult, StepProgress, TrainConfig, TrainingFinished, epoch_info, train

# A training run from the command line has the machine to itself: use every core (up to 4;
# measured here on 2 cores: 8.5-9.4k images/s with 2 threads against 5.6-7.2k with 1).
CLI_THREADS = max(1, min(os.cpu_count() or 1, 4))


def build_parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="python -m models.train",
        description="Train an autoencoder preset on MNIST and save it as a checkpoint.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--preset", default="dense_vae_2d", choices=list_presets(), help="model recipe to train")
    parser.add_argument("--epochs", type=int, help="epochs to train (default: the preset's)")
    parser.add_argument("--batch-size", type=int, help="images per step (default: the preset's)")
    parser.add_argument("--lr", type=float, help="Adam learning rate (default: the preset's)")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed")
    parser.add_argument("--subset", type=int, help="train on this many random training images (default: all)")
    parser.add_argument(
        "--threads", type=int, default=CLI_THREADS,
        help="torch CPU threads (the app's background jobs use 1, to keep the server responsive)",
    )  # fmt: skip
    parser.add_argument("--dataset", default="mnist", choices=DATASETS, help="dataset to train on")
    parser.add_argument("--data-dir", help=f"data directory (default: ${DATA_DIR_ENV}, else data/ in the repository)")
    parser.add_argument("--out", help="checkpoint path; .safetensors is appended (default: checkpoints/PRESET)")
    parser.add_argument("--title", help="name shown in the app (default: the preset's title)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def train_config_from_args(args: argparse.Namespace, base: TrainConfig) -> TrainConfig:
    overrides = {"seed": args.seed, "threads": args.threads, "subset": args.subset}
    for name in ("epochs", "batch_size", "lr"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    return replace(base, **overrides)


def format_metrics(metrics: EvalMetrics | dict) -> str:
    values = metrics.to_dict() if isinstance(metrics, EvalMetrics) else metrics
    parts = [f"reconstruction {values['reconstruction']:.2f}"]
    if values.get("kl"):
        parts.append(f"KL {values['kl']:.2f}")
    if values.get("elbo") is not None:
        parts.append(f"ELBO {values['elbo']:.2f}")
    parts.append(f"k-NN accuracy {values['knn_accuracy']:.1%}")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    preset = get_preset(args.preset)
    config = train_config_from_args(args, preset.training)
    out = Path(args.out) if args.out else CHECKPOINT_DIR / preset.name
    try:
        train_split = load_split(args.dataset, train=True, root=args.data_dir)
        test_split = load_split(args.dataset, train=False, root=args.data_dir)
        config.validate(len(train_split))
    except (DataUnavailableError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    model = preset.build()
    info = CheckpointInfo(
        model=preset.family,
        config=preset.config,
        title=args.title or preset.title,
        preset=preset.name,
        dataset=args.dataset,
        training=asdict(config),
        command="python -m models.train " + shlex.join(argv),
    )
    saved: Path | None = None
    last: EpochResult | None = None
    total_steps = (config.subset or len(train_split)) // config.batch_size * config.epochs
    bar = tqdm(total=total_steps, unit="step", disable=args.quiet, dynamic_ncols=True)
    try:
        for event in train(model, train_split, test_split, config):
            if isinstance(event, StepProgress):
                bar.update(1)
                if event.step % 20 == 0:
                    bar.set_postfix(
                        epoch=event.epoch, loss=f"{event.losses['total']:.2f}", img_s=f"{event.images_per_s:.0f}"
                    )
            elif isinstance(event, EpochResult):
                last = event
                info = epoch_info(info, model, event, test_split)
                saved = save_checkpoint(out, model, info)
                bar.write(
                    f"epoch {event.epoch}: train loss {event.train['total']:.2f}; test {format_metrics(event.test)}"
                )
            elif isinstance(event, TrainingFinished):
                bar.close()
                if event.status == "diverged":
                    print(f"error: {event.message}", file=sys.stderr)
                    if saved:
                        print(f"The checkpoint of epoch {event.epochs_completed} is intact at {saved}", file=sys.stderr)
                    return 1
    except KeyboardInterrupt:
        bar.close()
        where = f"; the checkpoint of epoch {last.epoch} is at {saved}" if saved and last else "; nothing was saved"
        print(f"Interrupted{where}.", file=sys.stderr)
        return 130
    assert last is not None and saved is not None
    print(f"Saved {saved} after {last.epoch} epochs ({last.elapsed:.1f} s).")
    print(f"Test metrics: {format_metrics(last.test)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
