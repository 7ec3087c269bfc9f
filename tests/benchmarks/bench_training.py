"""Training and inference speed of the dense 2-D VAE, measured against references in one run.

    python -m tests.benchmarks.bench_training [--rounds 3] [--steps 468] [--json out.json]

Figures (all from this run, so a busy machine slows both sides alike):
- images/s of the project's engine (`models.training.loop.train`) against a reference loop written
  like pytorch/examples `vae` (torchvision DataLoader + ToTensor, batch 128, default threads,
  plain Adam), same model, interleaved round by round; printed as ratios. Each round is one
  epoch of `--steps` steps (468: all 60,000 images) on each side, and two rates are taken:
  - the step rate: training steps only (the engine's own `images_per_s`, which leaves out
    its evaluation; the reference's training loop alone);
  - the epoch rate: the whole epoch, evaluation included, as a user waits for it. The
    reference's epoch ends with its test pass (loss over the 10k test images through its
    DataLoader, as the example's `test()`); the engine's with its own evaluation (loss terms,
    ELBO, MSE and the k-NN accuracy of the test codes against 10,000 training codes).
- the same two rates for the engine with `precision="auto"`: bfloat16 forward passes where this
  CPU multiplies bfloat16 natively (AMX, AVX-512 BF16), else float32 again; printed with the
  measured bfloat16/float32 speed of one layer-sized product.
- achieved GFLOP/s of the engine's float32 steps (FLOPs of one step counted by torch's FlopCounterMode)
  against a plain float32 matmul with the same thread count; printed as a ratio.
The engine runs with as many threads as the reference (torch's default, all cores), as the
CLI does; `--threads 1` measures the setting the app's background jobs use.
- latency of encoding the 10k test set and of decoding one latent point.
Targets (issue 2): engine >= 3x the reference, >= 40% of the matmul rate.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import NamedTuple

import torch

from models.files.data import data_dir, load_split
from models.training.config import TrainConfig
from models.training.events import EpochResult, StepProgress
from models.training.loop import train
from models.training.presets import get_preset
from models.training.runtime import configure_torch, cpu_bfloat16_speedup, resolve_precision
from tests.benchmarks.report import report

BATCH = 128
PRESET = "dense_vae_2d"


class Rates(NamedTuple):
    step: float  # images/s of the training steps alone
    epoch: float  # images/s of the whole epoch, its evaluation included


def reference_round(model: torch.nn.Module, loader_iter, test_loader, steps: int, threads: int) -> Rates:
    """pytorch/examples style: DataLoader batches, default threads, plain Adam, then a test pass."""
    configure_torch(threads)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    start = time.perf_counter()
    for _ in range(steps):
        data, _ = next(loader_iter)
        optimizer.zero_grad()
        out = model(data)
        loss = model.loss(data, out).total
        loss.backward()
        optimizer.step()
        loss.item()  # the examples log loss.item() every step
    trained = time.perf_counter() - start
    model.eval()
    test_loss = 0.0
    with torch.no_grad():  # the example's test(): the summed loss over the test set
        for data, _ in test_loader:
            test_loss += model.loss(data, model(data)).total.item() * len(data)
    return Rates(steps * BATCH / trained, steps * BATCH / (time.perf_counter() - start))


def engine_round(
    model: torch.nn.Module, train_split, test_split, steps: int, seed: int, threads: int, precision: str
) -> Rates:
    """The project's engine: one epoch of `steps` steps (a subset of the training set if fewer than
    a full epoch), its evaluation included, as the CLI and the app run it."""
    subset = steps * BATCH if steps * BATCH < len(train_split) else None
    config = TrainConfig(epochs=1, batch_size=BATCH, seed=seed, threads=threads, subset=subset, precision=precision)
    start = time.perf_counter()
    last: StepProgress | None = None
    for event in train(model, train_split, test_split, config):
        if isinstance(event, StepProgress):
            last = event
        elif isinstance(event, EpochResult):
            break
    assert last is not None
    return Rates(last.images_per_s, last.global_step * BATCH / (time.perf_counter() - start))


def matmul_gflops(threads: int, size: int = 1024, repeats: int = 10) -> float:
    configure_torch(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def step_flops_per_image(model: torch.nn.Module, images: torch.Tensor) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    x = images[:BATCH]
    with FlopCounterMode(display=False) as counter:
        model.loss(x, model(x)).total.backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / BATCH


def latency_ms(fn, repeats: int) -> tuple[float, float]:
    """Median and p95 latency in milliseconds."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--steps", type=int, default=468, help="steps per side per round (default 468: an epoch)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--threads", type=int, help="engine and matmul threads (default: torch's default)")
    args = parser.parse_args()

    from torchvision import datasets, transforms

    default_threads = torch.get_num_threads()
    threads = args.threads or default_threads
    train_split, test_split = load_split("mnist", train=True), load_split("mnist", train=False)
    dataset = datasets.MNIST(str(data_dir()), train=True, download=True, transform=transforms.ToTensor())
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True)
    test_dataset = datasets.MNIST(str(data_dir()), train=False, download=True, transform=transforms.ToTensor())
    test_loader = torch.utils.data.DataLoader(test_dataset, batch_size=BATCH, shuffle=False)

    def endless():
        while True:
            yield from loader

    batches = endless()
    torch.manual_seed(0)
    reference_model, engine_model = get_preset(PRESET).build(), get_preset(PRESET).build()
    mixed_model = get_preset(PRESET).build()
    mixed_precision = resolve_precision("auto", torch.device("cpu"), sum(p.numel() for p in mixed_model.parameters()))
    reference: list[Rates] = []
    engine: list[Rates] = []
    mixed: list[Rates] = []
    matmul: list[float] = []
    for round_index in range(args.rounds):
        reference.append(reference_round(reference_model, batches, test_loader, args.steps, default_threads))
        engine.append(engine_round(engine_model, train_split, test_split, args.steps, round_index, threads, "float32"))
        mixed.append(
            engine_round(mixed_model, train_split, test_split, args.steps, round_index, threads, mixed_precision)
        )
        matmul.append(matmul_gflops(threads))
        print(f"round {round_index + 1}: steps: reference {reference[-1].step:.0f} img/s, engine {engine[-1].step:.0f} "
              f"img/s, engine in {mixed_precision} {mixed[-1].step:.0f} img/s; epochs with evaluation: reference "
              f"{reference[-1].epoch:.0f} img/s, engine {engine[-1].epoch:.0f} img/s, in {mixed_precision} "
              f"{mixed[-1].epoch:.0f} img/s; matmul {matmul[-1]:.1f} GFLOP/s", flush=True)  # fmt: skip

    configure_torch(threads)
    flops = step_flops_per_image(engine_model, train_split.images)
    engine_rate, reference_rate = (statistics.median(r.step for r in side) for side in (engine, reference))
    engine_epoch, reference_epoch = (statistics.median(r.epoch for r in side) for side in (engine, reference))
    mixed_rate, mixed_epoch = statistics.median(r.step for r in mixed), statistics.median(r.epoch for r in mixed)
    matmul_rate = statistics.median(matmul)
    achieved = engine_rate * flops / 1e9
    engine_model.eval()
    with torch.inference_mode():
        encode_median, encode_p95 = latency_ms(lambda: engine_model.encode(test_split.images), 5)
        point = torch.zeros(1, 2)
        decode_median, decode_p95 = latency_ms(lambda: engine_model.decode(point), 200)

    figures = {
        "model": PRESET,
        "batch_size": BATCH,
        "reference_threads": default_threads,
        "engine_threads": threads,
        "steps_per_round": args.steps,
        "engine_images_per_s": round(engine_rate, 1),
        "reference_images_per_s": round(reference_rate, 1),
        "speedup_vs_reference": round(engine_rate / reference_rate, 2),
        "engine_epoch_images_per_s": round(engine_epoch, 1),
        "reference_epoch_images_per_s": round(reference_epoch, 1),
        "epoch_speedup_vs_reference": round(engine_epoch / reference_epoch, 2),
        "precision_auto": mixed_precision,
        "bfloat16_matmul_speedup": round(cpu_bfloat16_speedup(), 2),
        "auto_images_per_s": round(mixed_rate, 1),
        "auto_speedup_vs_reference": round(mixed_rate / reference_rate, 2),
        "auto_epoch_images_per_s": round(mixed_epoch, 1),
        "auto_epoch_speedup_vs_reference": round(mixed_epoch / reference_epoch, 2),
        "train_mflop_per_image": round(flops / 1e6, 3),
        "engine_gflops": round(achieved, 1),
        "matmul_gflops": round(matmul_rate, 1),
        "fraction_of_matmul": round(achieved / matmul_rate, 3),
        "encode_10k_ms_median": round(encode_median, 1),
        "encode_10k_ms_p95": round(encode_p95, 1),
        "decode_1_ms_median": round(decode_median, 3),
        "decode_1_ms_p95": round(decode_p95, 3),
    }
    print(
        f"\nsteps: engine {engine_rate:.0f} img/s vs reference {reference_rate:.0f} img/s: "
        f"{figures['speedup_vs_reference']:.2f}x"
    )
    print(
        f"epochs with evaluation: engine {engine_epoch:.0f} img/s vs reference {reference_epoch:.0f} img/s: "
        f"{figures['epoch_speedup_vs_reference']:.2f}x (target >= 3x)"
    )
    print(
        f"precision auto ({mixed_precision}; bfloat16 products {figures['bfloat16_matmul_speedup']:.1f}x as fast "
        f"as float32 here): steps {mixed_rate:.0f} img/s: {figures['auto_speedup_vs_reference']:.2f}x; epochs "
        f"{mixed_epoch:.0f} img/s: {figures['auto_epoch_speedup_vs_reference']:.2f}x (target >= 3x)"
    )
    print(
        f"engine {achieved:.1f} GFLOP/s vs matmul {matmul_rate:.1f} GFLOP/s: "
        f"{figures['fraction_of_matmul']:.0%} (target >= 40%)"
    )
    print(f"encode 10k: {encode_median:.1f} ms median; decode 1: {decode_median:.3f} ms median")
    return report(figures, args.json)


if __name__ == "__main__":
    sys.exit(main())
