"""Command-line training: `python -m models.train --preset dense_vae_2d`.

Trains with the shared engine (`models.training`), shows a tqdm progress bar, writes the
checkpoint atomically after every completed epoch (so an interrupted or diverging run
keeps its last good epoch) and prints the test metrics at the end.

It never writes over a model that ships with the app. Without `--out` the checkpoint goes
to the user folder (`checkpoints/user/`, or `$LATENT_USER_CHECKPOINTS`) under the first
free name; an existing file is replaced only with `--overwrite`. Every option is checked
before the data set is loaded, and the model is built after the seed is set, so the same
command gives the same weights.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from dataclasses import asdict, replace
from pathlib import Path

import torch
from tqdm import tqdm

from models.checkpoint import CheckpointInfo, save_checkpoint
from models.checkpoint_store import SUFFIX, is_shipped, user_checkpoint_dir
from models.data import DATA_DIR_ENV, DATASETS, TRAIN_SIZES, DataUnavailableError, load_split
from models.engine import EpochResult, StepProgress, TrainConfig, TrainingFinished, train
from models.presets import DEFAULT_PRESET, get_preset, list_presets
from models.text import count_of

# A training run from the command line has the machine to itself: use every core (up to 4;
# measured here on 2 cores: 8.5-9.4k images/s with 2 threads against 5.6-7.2k with 1).
CLI_THREADS = max(1, min(os.cpu_count() or 1, 4))


class _DefaultsFormatter(argparse.HelpFormatter):
    """Adds "(default: X)" to options that have a default, and nothing to those that have none."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "(default" in text or action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


def build_parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="python -m models.train",
        description="Train an autoencoder preset on MNIST and save it as a checkpoint.",
        formatter_class=_DefaultsFormatter,
    )
    parser.add_argument("--preset", default=DEFAULT_PRESET, choices=list_presets(), help="model recipe to train")
    parser.add_argument("--epochs", type=int, help="epochs to train (default: the preset's)")
    parser.add_argument("--batch-size", type=int, help="images per step (default: the preset's)")
    parser.add_argument("--lr", type=float, help="Adam learning rate (default: the preset's)")
    parser.add_argument(
        "--seed", type=int, default=defaults.seed, help="random seed: the same command gives the same model"
    )
    parser.add_argument("--subset", type=int, help="train on this many random training images (default: all)")
    parser.add_argument(
        "--threads", type=int, default=CLI_THREADS,
        help="torch CPU threads (the app's background jobs use 1, to keep the server responsive)",
    )  # fmt: skip
    parser.add_argument("--dataset", default="mnist", choices=DATASETS, help="dataset to train on")
    parser.add_argument("--data-dir", help=f"data directory (default: ${DATA_DIR_ENV}, else data/ in the repository)")
    parser.add_argument(
        "--out",
        help="checkpoint path; .safetensors is appended (default: the user folder, under the preset's name "
        "or the first free name after it)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace the --out file if it exists (never a shipped model)"
    )
    parser.add_argument("--title", help="name shown in the app (default: the preset's title)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def train_config_from_args(args: argparse.Namespace, base: TrainConfig) -> TrainConfig:
    overrides = {"seed": args.seed, "threads": args.threads, "subset": args.subset}
    for name in ("epochs", "batch_size", "lr"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    return replace(base, **overrides)


def output_path(out: str | None, preset: str, overwrite: bool) -> Path:
    """Where to save: `out` (checked), or the first free `preset[_N]` in the user folder.

    Raises ValueError for a shipped model (always) or an existing file (unless `overwrite`).
    """
    if out is None:
        folder = user_checkpoint_dir()
        path, number = folder / f"{preset}{SUFFIX}", 2
        while path.exists():
            path, number = folder / f"{preset}_{number}{SUFFIX}", number + 1
        return path
    path = Path(os.path.abspath(out))  # "user/../x" means x, even before user/ exists
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    if path.exists() and is_shipped(path):
        raise ValueError(f"{path} is a model that ships with the app and is never replaced; choose another --out")
    if path.exists() and not overwrite:
        raise ValueError(f"{path} exists; choose another --out, or add --overwrite to replace it")
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give --out a file name")
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    preset = get_preset(args.preset)
    config = train_config_from_args(args, preset.training)
    try:  # everything that needs no data first: a typo costs no time
        config.validate(TRAIN_SIZES[args.dataset])
        out = output_path(args.out, preset.name, args.overwrite)
        train_split = load_split(args.dataset, train=True, root=args.data_dir)
        test_split = load_split(args.dataset, train=False, root=args.data_dir)
    except (DataUnavailableError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    torch.manual_seed(config.seed)  # before building: the initial weights are part of the run
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
                info = info.after_epoch(event.epoch, event.test, event.test_codes)
                saved = save_checkpoint(out, model, info)
                bar.write(f"epoch {event.epoch}: train loss {event.train['total']:.2f}; test {event.test.summary()}")
            elif isinstance(event, TrainingFinished):
                bar.close()
                if event.status == "diverged":
                    print(f"error: {event.message}", file=sys.stderr)
                    if saved and last:
                        print(f"The checkpoint of epoch {last.epoch} is intact at {saved}.", file=sys.stderr)
                    else:
                        print("Nothing was saved (no epoch was completed).", file=sys.stderr)
                    return 1
    except KeyboardInterrupt:
        bar.close()
        where = f"; the checkpoint of epoch {last.epoch} is at {saved}" if saved and last else "; nothing was saved"
        print(f"Interrupted{where}.", file=sys.stderr)
        return 130
    assert last is not None and saved is not None
    print(f"Saved {saved} after {count_of(last.epoch, 'epoch')} ({last.elapsed:.1f} s).")
    print(f"Test metrics: {last.test.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
