"""Command-line training: `python -m models.train --preset dense_vae_2d`.

Trains as the app's jobs do (`models.training.run`), shows a tqdm progress bar, writes the
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
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from models.families.config import ACTIVATIONS, NOISE_KINDS, RECONSTRUCTION_LOSSES, ConvConfig, DenseConfig, parse_sizes
from models.families.registry import get_model, parameter_count
from models.files.checkpoint import MAX_TEXT_LENGTH
from models.files.claims import NameClaimed, claimed, held, held_names
from models.files.data import DATA_DIR_ENV, DATASETS, TRAIN_SIZES, DataUnavailableError, Split, load_split
from models.files.store import SUFFIX, check_writable, first_free_name, is_shipped, shipped_names, user_checkpoint_dir
from models.text import DefaultsFormatter, count_of
from models.training.budget import describe_bytes, memory_available, model_shape, run_images, training_memory
from models.training.config import SCHEDULES, TrainConfig
from models.training.events import StepProgress, TrainingFinished
from models.training.presets import DEFAULT_PRESET, Preset, get_preset, list_presets
from models.training.run import CheckpointWritten, run_info, train_and_save
from models.training.runtime import DEVICES, PRECISIONS

# A training run from the command line has the machine to itself: use every core (up to 4).
CLI_THREADS = max(1, min(os.cpu_count() or 1, 4))


def parse_digits(text: str) -> tuple[int, ...]:
    """'0,1,4,7' (or '0 1 4 7', or '0147') -> (0, 1, 4, 7): distinct digits from 0 to 9."""
    parts = [part for part in text.replace(",", " ").split() if part]
    if len(parts) == 1 and parts[0].isdigit():
        parts = list(parts[0])
    if not parts or not all(part.isdigit() and len(part) == 1 for part in parts) or len(set(parts)) != len(parts):
        raise argparse.ArgumentTypeError(f"digits must be distinct digits from 0 to 9, e.g. 0,1,4,7; got {text!r}")
    return tuple(int(part) for part in parts)


def sizes(text: str) -> tuple[int, ...]:
    """`parse_sizes` for argparse: '512,256' -> (512, 256); '' -> () (no hidden layer)."""
    try:
        return parse_sizes(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    defaults, preset = TrainConfig(), " (default: the preset's)"
    parser = argparse.ArgumentParser(
        prog="python -m models.train",
        description="Train an autoencoder preset on MNIST and save it as a checkpoint. Options left out "
        "take the preset's value; the model options change the preset's architecture or objective.",
        formatter_class=DefaultsFormatter,
    )
    parser.add_argument("--preset", default=DEFAULT_PRESET, choices=list_presets(), help="model recipe to train")

    training = parser.add_argument_group("training")
    training.add_argument("--epochs", type=int, help="epochs to train" + preset)
    training.add_argument("--batch-size", type=int, help="images per step" + preset)
    training.add_argument("--lr", type=float, help="Adam learning rate, the peak of a schedule" + preset)
    training.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule over the run: constant, "
                          "cosine (down to 0) or onecycle (up to --lr over the first 30%% of the steps, then down)"
                          + preset)  # fmt: skip
    training.add_argument("--weight-decay", type=float, help="decoupled weight decay (AdamW); 0 is plain Adam" + preset)

    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default="mnist", choices=DATASETS, help="dataset to train on")
    data.add_argument("--data-dir", help=f"data directory (default: ${DATA_DIR_ENV}, else data/ in the repository)")
    data.add_argument("--subset", type=int, help="train on this many random training images (default: all)")
    data.add_argument("--digits", type=parse_digits, help="train and evaluate on these digits only, e.g. 0,1,4,7 "
                      "(default: all ten)")  # fmt: skip
    data.add_argument("--knn-reference", type=int,
                      help="training images whose codes are the k-NN reference (60000: all)" + preset)  # fmt: skip

    machine = parser.add_argument_group("reproducibility and hardware")
    machine.add_argument("--seed", type=int, default=defaults.seed, help="random seed: the same command gives the "
                         "same model")  # fmt: skip
    machine.add_argument("--device", choices=DEVICES, default=defaults.device,
                         help="where to train: auto picks a CUDA GPU, then Apple's MPS, then the CPU")  # fmt: skip
    machine.add_argument("--precision", choices=PRECISIONS, default=defaults.precision,
                         help="bfloat16 computes the matrix products and convolutions of training in bfloat16 (the "
                         "loss, weights, Adam and evaluation stay float32), faster on a CPU with AMX; auto picks it "
                         "where the hardware does bfloat16 natively, for models of at least 250,000 "
                         "weights")  # fmt: skip
    machine.add_argument("--threads", type=int, default=CLI_THREADS, help="torch CPU threads (the app's background "
                         "jobs use 1, to keep the server responsive)")  # fmt: skip

    model = parser.add_argument_group("model options" + preset)
    model.add_argument("--latent-dim", type=int, help="size of the code z")
    model.add_argument("--hidden", type=sizes, help="dense models: encoder layer widths, e.g. 512,256")
    model.add_argument("--activation", choices=ACTIVATIONS, help="hidden-layer nonlinearity")
    model.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, default=None,
                       help="batch norm after hidden layers")  # fmt: skip

    conv = parser.add_argument_group("conv model options" + preset)
    conv.add_argument("--channels", type=sizes, help="channels of each conv stage, e.g. 32,64")
    conv.add_argument("--style", choices=("strided", "pool"), help="strided convs, or pooling and upsampling")
    conv.add_argument("--kernel-size", type=int, help="odd kernel size of every conv")
    conv.add_argument("--dense", type=int, help="width of the dense layers before the code (0: none)")
    conv.add_argument("--dense-layers", type=int, help="how many dense layers of that width")

    objective = parser.add_argument_group("objective" + preset)
    objective.add_argument("--reconstruction", choices=RECONSTRUCTION_LOSSES, help="reconstruction loss")
    objective.add_argument("--beta", type=float, help="VAEs: weight of the KL term (a beta-VAE for beta != 1)")
    objective.add_argument("--kl-warmup", type=int, help="VAEs: epochs over which the KL weight ramps linearly "
                           "from 0 to beta")  # fmt: skip

    variants = parser.add_argument_group("training variants" + preset)
    variants.add_argument("--noise", choices=NOISE_KINDS, help="denoising: noise on the input, clean target")
    variants.add_argument("--noise-level", type=float, help="Gaussian noise std, or the share of pixels masked")
    variants.add_argument("--contractive-weight", type=float, help="weight of the contractive penalty")
    variants.add_argument("--code-noise", type=float, help="regularised AE: std of Gaussian noise on the code while "
                          "training (plain autoencoders only)")  # fmt: skip
    variants.add_argument("--code-penalty", type=float,
                          help="regularised AE: weight of half the squared length of the code")  # fmt: skip

    output = parser.add_argument_group("output")
    output.add_argument("--out", help="checkpoint path; .safetensors is appended (default: the user folder, under the "
                        "preset's name or the first free name after it)")  # fmt: skip
    output.add_argument("--overwrite", action="store_true",
                        help="replace the --out file if it exists (never a shipped model)")  # fmt: skip
    output.add_argument("--half", action="store_true", help="store the weights in float16 (half the bytes); the "
                        "stored metrics are those of the rounded weights")  # fmt: skip
    output.add_argument("--quiet", action="store_true", help="no progress bar")

    shown = parser.add_argument_group("shown in the app")
    shown.add_argument("--title", help="name shown in the app (default: the preset's title)")
    shown.add_argument("--lesson", default="", help="group of the model in the app's picker, e.g. 'beta-VAE'")
    shown.add_argument("--description", default="", help="one sentence for students, shown in the app")
    return parser


TRAINING_OPTIONS = ("epochs", "batch_size", "lr", "schedule", "weight_decay", "kl_warmup", "knn_reference")
MODEL_OPTIONS = (
    "latent_dim", "hidden", "channels", "dense", "dense_layers", "style", "kernel_size", "activation", "batch_norm",
)  # fmt: skip
OBJECTIVE_OPTIONS = (
    "reconstruction", "beta", "noise", "noise_level", "contractive_weight", "code_noise", "code_penalty",
)  # fmt: skip


def train_config_from_args(args: argparse.Namespace, base: TrainConfig) -> TrainConfig:
    overrides: dict[str, Any] = {"seed": args.seed, "threads": args.threads, "subset": args.subset}
    overrides |= {"digits": args.digits, "device": args.device, "precision": args.precision}
    for name in TRAINING_OPTIONS:
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    return replace(base, **overrides)


def model_config_from_args(args: argparse.Namespace, preset: Preset) -> Any:
    """The preset's model config with the model options given on the command line; ValueError if
    an option does not apply to the preset's family or the result is invalid."""
    config = preset.config
    changes = {name: getattr(args, name) for name in MODEL_OPTIONS if getattr(args, name) is not None}
    wrong = [name for name in changes if not hasattr(config, name)]
    if wrong:
        kind = "dense" if isinstance(config, DenseConfig) else "convolutional"
        options = ", ".join("--" + name.replace("_", "-") for name in wrong)
        raise ValueError(f"{options} does not apply to {preset.name}, a {kind} model")
    objective = {name: getattr(args, name) for name in OBJECTIVE_OPTIONS if getattr(args, name) is not None}
    if objective:
        changes["objective"] = replace(config.objective, **objective)
    config = replace(config, **changes)
    assert isinstance(config, (DenseConfig, ConvConfig))
    config.validate()
    get_model(preset.family, config)  # within the size limits (nothing is trained yet)
    return config


def check_memory(family: str, model_config: Any, config: TrainConfig, dataset: str) -> None:
    """ValueError if the run would need more memory than this machine has free (rather than be killed
    by the system when it runs out, with no word of why)."""
    needed = training_memory(model_shape(family, model_config), config, *run_images(dataset, config))
    free = memory_available()
    if needed > free:
        raise ValueError(f"this run would need about {describe_bytes(needed)} of memory, and this machine has "
                         f"{describe_bytes(free)} free: use a smaller --batch-size or a smaller model")  # fmt: skip


def output_path(out: str | None, preset: str, overwrite: bool) -> Path:
    """Where to save: `out` (checked), or the first free `preset[_N]` in the user folder (never a
    shipped model's name, nor one another run is writing).

    Raises ValueError for a shipped model (always), an existing file (unless `overwrite`), or a file
    another run is writing now.
    """
    if out is None:
        folder = user_checkpoint_dir()
        return folder / f"{first_free_name(folder, preset, avoid=shipped_names() | held_names(folder))}{SUFFIX}"
    path = Path(os.path.abspath(out))  # "user/../x" means x, even before user/ exists
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    if path.exists() and is_shipped(path):
        raise ValueError(f"{path} is a model that ships with the app and is never replaced; choose another --out")
    if held(path):
        raise ValueError(f"another run is training {path} now; choose another --out")
    if path.exists() and not overwrite:
        raise ValueError(f"{path} exists; choose another --out, or add --overwrite to replace it")
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give --out a file name")
    try:
        check_writable(path.parent)
    except OSError as error:
        raise ValueError(f"nothing can be written into {path.parent} ({error.strerror or error})") from None
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    preset = get_preset(args.preset)
    config = train_config_from_args(args, preset.training)
    try:  # everything that needs no data first: a typo costs no time
        model_config = model_config_from_args(args, preset)
        config.validate(TRAIN_SIZES[args.dataset])
        for name in ("title", "lesson", "description"):
            if len(getattr(args, name) or "") > MAX_TEXT_LENGTH:
                raise ValueError(f"--{name} is longer than {MAX_TEXT_LENGTH} characters")
        config = config.resolved(parameter_count(preset.family, model_config))  # as the checkpoint records it
        check_memory(preset.family, model_config, config, args.dataset)
        out = output_path(args.out, preset.name, args.overwrite)
        train_split = load_split(args.dataset, train=True, root=args.data_dir)
        test_split = load_split(args.dataset, train=False, root=args.data_dir)
        config.validate(len(train_split.with_digits(config.digits)))
    except (DataUnavailableError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    try:
        with claimed(out):  # two runs started at once never write the same file
            return _train(args, argv, preset, model_config, config, out, train_split, test_split)
    except NameClaimed as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _train(
    args: argparse.Namespace, argv: list[str], preset: Preset, model_config: Any, config: TrainConfig, out: Path,
    train_split: Split, test_split: Split,
) -> int:  # fmt: skip
    """Train and save every epoch, with a progress bar; the exit status."""
    device = torch.device(config.device)
    torch.manual_seed(config.seed)  # before building: the initial weights are part of the run
    model = get_model(preset.family, model_config)
    info = run_info(
        preset.family, model_config, config, title=args.title or preset.title, preset=preset.name,
        dataset=args.dataset, command="python -m models.train " + shlex.join(argv), lesson=args.lesson,
        description=args.description,
    )  # fmt: skip
    last: CheckpointWritten | None = None
    total_steps = (config.subset or len(train_split.with_digits(config.digits))) // config.batch_size * config.epochs
    bar = tqdm(total=total_steps, unit="step", disable=args.quiet, dynamic_ncols=True)
    bar.set_description(f"training on {device.type} in {config.precision}")
    try:
        for event in train_and_save(model, info, out, train_split, test_split, config, half=args.half):
            if isinstance(event, StepProgress):
                bar.update(1)
                if event.step % 20 == 0:
                    bar.set_postfix(
                        epoch=event.epoch, loss=f"{event.losses['total']:.2f}", img_s=f"{event.images_per_s:.0f}"
                    )
            elif isinstance(event, CheckpointWritten):
                last, result = event, event.result
                line = f"epoch {result.epoch}: train loss {result.train['total']:.2f}; test "
                line += f"{event.unrounded.summary()}; float16 weights: " if event.unrounded else ""
                bar.write(f"{line}{result.test.summary()} ({result.elapsed:.0f} s)")
            elif isinstance(event, TrainingFinished) and event.status == "diverged":
                bar.close()
                print(f"error: {event.message}", file=sys.stderr)
                print(_kept(last), file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        bar.close()
        print(f"Interrupted. {_kept(last)}", file=sys.stderr)
        return 130
    bar.close()
    assert last is not None
    size = last.path.stat().st_size
    took = f"{last.result.elapsed:.1f} s on {device.type} in {config.precision}, {size:,} bytes"
    print(f"Saved {last.path} after {count_of(last.result.epoch, 'epoch')} ({took}).")
    print(f"Test metrics: {last.result.test.summary()}")
    return 0


def _kept(last: CheckpointWritten | None) -> str:
    """What an interrupted or diverged run left on disk, as a sentence."""
    if last is None:
        return "Nothing was saved (no epoch was completed)."
    return f"The checkpoint of epoch {last.result.epoch} is intact at {last.path}."


if __name__ == "__main__":
    sys.exit(main())
