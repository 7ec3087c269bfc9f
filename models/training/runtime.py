"""Where and how precisely a model computes: the device, the bfloat16 policy, process-wide torch settings.

The choices are pure functions of what the machine has (`select_device`, `select_precision`), so
they are testable without a GPU; `resolve_*` ask this machine. `configure_torch` is also what the
app calls before it runs models for its pages.
"""

from __future__ import annotations

import contextlib
import functools
import statistics
import time
from collections.abc import Callable, Iterator

import torch

from models.families.base import IMAGE_PIXELS, Autoencoder

DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda", "mps")
PRECISIONS: tuple[str, ...] = ("float32", "bfloat16", "auto")
# "auto" takes bfloat16 on a CPU only if a product computed in bfloat16 is at least this much
# faster than in float32 (native AMX or AVX-512 BF16 units; see docs/performance.md).
BFLOAT16_SPEEDUP_NEEDED = 1.5
# ... and only for a model this big: a smaller one spends on conversions what it saves on products.
MIN_BFLOAT16_PARAMETERS = 250_000
PROBE_SHAPE = (128, 512)  # the probe's product: a batch of images times a first layer of this width


def configure_torch(threads: int, device: torch.device | str = "cpu") -> None:
    """Process-wide settings for training and inference.

    Flushing denormals matters: Adam's second-moment estimates drift into denormal floats after a
    few epochs, and the CPU then slows down markedly. On a CUDA GPU, cuDNN is told to pick
    deterministic convolution algorithms, so a run repeats exactly on the same GPU.
    """
    torch.set_flush_denormal(True)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if torch.device(device).type == "cuda":
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


def select_device(requested: str, cuda_available: bool, mps_available: bool) -> str:
    """The device to train on: "auto" picks cuda, then mps, then cpu; a named one must be there.

    Pure (the availability is passed in), so the choice is testable without a GPU.
    """
    if requested not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {requested!r}")
    if requested == "auto":
        return "cuda" if cuda_available else "mps" if mps_available else "cpu"
    if requested == "cuda" and not cuda_available:
        raise ValueError("device cuda was asked for, but PyTorch sees no CUDA GPU here; use --device auto or cpu")
    if requested == "mps" and not mps_available:
        raise ValueError("device mps was asked for, but PyTorch sees no Apple GPU (MPS) here; use --device auto or cpu")
    return requested


def resolve_device(requested: str = "auto") -> torch.device:
    """`select_device` with what this machine has."""
    mps = getattr(torch.backends, "mps", None)
    mps_available = bool(mps is not None and mps.is_available())
    return torch.device(select_device(requested, torch.cuda.is_available(), mps_available))


def select_precision(requested: str, device: str, parameters: int, bfloat16_is_fast: Callable[[], bool]) -> str:
    """ "float32" or "bfloat16" for a run of a model with `parameters` weights on `device`.

    "auto" gives bfloat16 on a CUDA GPU or a CPU that does it fast (asked of `bfloat16_is_fast`),
    never on MPS, and only for a model of at least `MIN_BFLOAT16_PARAMETERS`. Pure, so testable
    anywhere.
    """
    if requested not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {requested!r}")
    if requested != "auto":
        return requested
    if device not in ("cpu", "cuda") or parameters < MIN_BFLOAT16_PARAMETERS:
        return "float32"
    return "bfloat16" if bfloat16_is_fast() else "float32"


def resolve_precision(requested: str, device: torch.device, parameters: int) -> str:
    """`select_precision` with what this machine has."""
    if device.type == "cuda":
        return select_precision(requested, "cuda", parameters, torch.cuda.is_bf16_supported)
    return select_precision(requested, device.type, parameters, cpu_bfloat16_speedup_is_worth_it)


@functools.cache
def cpu_bfloat16_speedup_is_worth_it() -> bool:
    """Whether this CPU computes a layer-sized product at least `BFLOAT16_SPEEDUP_NEEDED` times as
    fast in bfloat16 as in float32 (measured once per process, in a few ms)."""
    return cpu_bfloat16_speedup() >= BFLOAT16_SPEEDUP_NEEDED


def cpu_bfloat16_speedup(repeats: int = 7) -> float:
    """How many times faster a (batch x 784) @ (784 x width) float32 product runs on this CPU when
    its arithmetic is done in bfloat16 (`low_precision_products`) than in float32."""
    generator = torch.Generator().manual_seed(0)
    batch, width = PROBE_SHAPE
    a, b = torch.rand(batch, IMAGE_PIXELS, generator=generator), torch.rand(IMAGE_PIXELS, width, generator=generator)

    def median_seconds() -> float:
        for _ in range(3):  # the first calls set up (and JIT-compile) the kernels
            torch.mm(a, b)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            torch.mm(a, b)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    exact = median_seconds()
    with low_precision_products():
        return exact / median_seconds()


def bfloat16_method(model: Autoencoder, device: torch.device) -> str:
    """How a bfloat16 run computes in bfloat16: "products" (float32 tensors whose matrix products
    oneDNN computes in bfloat16, see `low_precision_products`) for a dense model on a CPU, else
    "autocast" (bfloat16 tensors in the forward pass): oneDNN's float32 convolutions gain nothing
    from the products mode, autocast's casts cost dense models more than they save."""
    convolutional = any(isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)) for module in model.modules())
    return "autocast" if convolutional or device.type != "cpu" else "products"


@contextlib.contextmanager
def low_precision_products(enabled: bool = True) -> Iterator[None]:
    """While `enabled`: float32 matrix products and convolutions on the CPU computed in bfloat16
    inside oneDNN (`torch.backends.mkldnn.*.fp32_precision = "bf16"`). The training loop turns it
    on for the forward and backward passes only; evaluation and everything else stays exact."""
    if not enabled:
        yield
        return
    flags = torch.backends.mkldnn.matmul, torch.backends.mkldnn.conv
    saved = [flag.fp32_precision for flag in flags]
    for flag in flags:
        flag.fp32_precision = "bf16"
    try:
        yield
    finally:
        for flag, value in zip(flags, saved, strict=True):
            flag.fp32_precision = value
