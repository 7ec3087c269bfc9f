"""Training and inference speed of the dense 2-D VAE, measured against references in one run.

    python -m tests.benchmarks.bench_training [--rounds 5] [--steps 40] [--json out.json]

Figures (all from this run, so a busy machine slows both sides alike):
- images/s of the project's engine (`models.training.train`) against a reference loop
  written like pytorch/examples `mnist`/`vae` (torchvision DataLoader + ToTensor, batch 128,
  default threads, plain Adam), same model, interleaved round by round; printed as a ratio.
- achieved GFLOP/s of the engine (FLOPs of one step counted by torch's FlopCounterMode)
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

import torch

from models.data import data_dir, load_split
from models.engine import StepProgress, TrainConfig, configure_torch, train
from models.presets import get_preset
from tests.benchmarks.report import report

BATCH = 128
PRESET = "dense_vae_2d"


def reference_round(model: torch.nn.Module, loader_iter, steps: int, threads: int) -> float:
    """pytorch/examples style: DataLoader batches, default threads, plain Adam. Returns images/s."""
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
    return steps * BATCH / (time.perf_counter() - start)


def engine_round(model: torch.nn.Module, train_split, test_split, steps: int, seed: int, threads: int) -> float:
    """The project's engine, stopped after `steps` steps. Returns its own images/s figure."""
    config = TrainConfig(epochs=1, batch_size=BATCH, seed=seed, knn_reference=100, threads=threads)
    progress: list[StepProgress] = []
    for event in train(model, train_split, test_split, config, should_stop=lambda: len(progress) >= steps):
        if isinstance(event, StepProgress):
            progress.append(event)
    return progress[-1].images_per_s


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
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--steps", type=int, default=200, help="training steps per side per round (default 200)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--threads", type=int, help="engine and matmul threads (default: torch's default)")
    args = parser.parse_args()

    from torchvision import datasets, transforms

    default_threads = torch.get_num_threads()
    threads = args.threads or default_threads
    train_split, test_split = load_split("mnist", train=True), load_split("mnist", train=False)
    dataset = datasets.MNIST(str(data_dir()), train=True, download=True, transform=transforms.ToTensor())
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True)

    def endless():
        while True:
            yield from loader

    batches = endless()
    torch.manual_seed(0)
    reference_model, engine_model = get_preset(PRESET).build(), get_preset(PRESET).build()
    reference, engine, matmul = [], [], []
    for round_index in range(args.rounds):
        reference.append(reference_round(reference_model, batches, args.steps, default_threads))
        engine.append(engine_round(engine_model, train_split, test_split, args.steps, round_index, threads))
        matmul.append(matmul_gflops(threads))
        print(f"round {round_index + 1}: reference {reference[-1]:.0f} img/s, engine {engine[-1]:.0f} img/s, "
              f"matmul {matmul[-1]:.1f} GFLOP/s", flush=True)  # fmt: skip

    configure_torch(threads)
    flops = step_flops_per_image(engine_model, train_split.images)
    engine_rate, reference_rate, matmul_rate = (statistics.median(v) for v in (engine, reference, matmul))
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
        "engine_images_per_s": round(engine_rate, 1),
        "reference_images_per_s": round(reference_rate, 1),
        "speedup_vs_reference": round(engine_rate / reference_rate, 2),
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
        f"\nengine {engine_rate:.0f} img/s vs reference {reference_rate:.0f} img/s: "
        f"{figures['speedup_vs_reference']:.2f}x (target >= 3x)"
    )
    print(
        f"engine {achieved:.1f} GFLOP/s vs matmul {matmul_rate:.1f} GFLOP/s: "
        f"{figures['fraction_of_matmul']:.0%} (target >= 40%)"
    )
    print(f"encode 10k: {encode_median:.1f} ms median; decode 1: {decode_median:.3f} ms median")
    return report(figures, args.json)


if __name__ == "__main__":
    sys.exit(main())
