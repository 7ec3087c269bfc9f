"""Test-set evaluation: loss terms, ELBO, MSE and the k-NN accuracy of the latent codes; encoding and
reconstruction errors of many images; a clear example of each digit.

(None stands for a metric a stored checkpoint does not have; a fresh evaluation has them all.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from models.evaluation.neighbours import knn_accuracy
from models.families.base import Autoencoder, eval_mode
from models.files.data import Split

EVAL_BATCH = 1000


@dataclass(frozen=True)
class EvalMetrics:
    """Mean per-image terms over a test set, plus latent-space quality."""

    total: float | None  # the training objective (reconstruction + beta * kl + sparsity penalty)
    reconstruction: float | None  # per image, summed over pixels (BCE in nats, or squared error)
    kl: float | None  # per image (0 for plain autoencoders)
    elbo: float | None  # -(reconstruction + kl) in nats per image; VAEs with BCE only
    knn_accuracy: float | None  # share of test codes whose k nearest training codes vote the right label
    mse: float | None = None  # mean squared error per pixel of the deterministic reconstruction decode(mu)

    def to_dict(self) -> dict[str, float | None]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, float | None]) -> EvalMetrics:
        """Metrics stored in a checkpoint; missing ones (older or foreign files) become None."""
        return cls(**{name: values.get(name) for name in cls.__dataclass_fields__})

    def summary(self) -> str:
        """One line for people, e.g. "reconstruction 134.27, KL 6.95, ELBO -141.22, k-NN accuracy 79.5%"."""
        parts = [f"reconstruction {self.reconstruction:.2f}"] if self.reconstruction is not None else []
        if self.kl:
            parts.append(f"KL {self.kl:.2f}")
        if self.elbo is not None:
            parts.append(f"ELBO {self.elbo:.2f}")
        if self.mse is not None:
            parts.append(f"MSE {self.mse:.4f}")
        if self.knn_accuracy is not None:
            parts.append(f"k-NN accuracy {self.knn_accuracy:.1%}")
        return ", ".join(parts) or "no test metrics"


class Evaluation(NamedTuple):
    """The test metrics, and the test codes they were computed from (reused, never recomputed)."""

    metrics: EvalMetrics
    codes: Tensor  # (N, latent_dim) posterior means of the test images, in their order


def model_device(model: torch.nn.Module) -> torch.device:
    """The device a model's weights are on (the CPU for a model without any)."""
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


@torch.inference_mode()
def encode_all(model: Autoencoder, images: Tensor, batch_size: int = EVAL_BATCH) -> Tensor:
    """Codes (posterior means) of all images, in eval mode, shape (N, latent_dim), on the images' device.

    The images are encoded on the model's device, a batch at a time.
    """
    device = model_device(model)
    with eval_mode(model):
        codes = [model.encode(images[i : i + batch_size].to(device)) for i in range(0, len(images), batch_size)]
    return torch.cat(codes).to(images.device)


@torch.inference_mode()
def reconstruction_errors(
    model: Autoencoder, images: Tensor, kind: str = "mse", batch_size: int = EVAL_BATCH
) -> Tensor:
    """Per-image reconstruction error of the deterministic reconstruction decode(encode(x)), shape (N,).

    "mse": mean squared error per pixel (in [0, 1]); "bce": binary cross-entropy summed over the
    pixels, in nats per image. Eval mode, on the model's device; the result is on the images' device.
    High values flag images the model finds unusual (anomaly detection).
    """
    if kind not in ("mse", "bce"):
        raise ValueError(f"kind must be 'mse' or 'bce', got {kind!r}")
    device = model_device(model)
    errors = []
    with eval_mode(model):
        for i in range(0, len(images), batch_size):
            x = images[i : i + batch_size].to(device)
            logits = model.decoder(model.encode(x))
            if kind == "mse":
                errors.append((torch.sigmoid(logits) - x).square().flatten(1).mean(1))
            else:
                per_pixel = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
                errors.append(per_pixel.flatten(1).sum(1))
    if not errors:
        return torch.zeros(0, device=images.device)
    return torch.cat(errors).float().to(images.device)


@torch.inference_mode()
def compute_metrics(model: Autoencoder, test: Split, reference: Split, k: int = 5, seed: int = 0) -> Evaluation:
    """Evaluate on `test`; `reference` (training images) is the k-NN reference set.

    Runs on the model's device (the splits may live anywhere); the codes come back on the CPU.
    A VAE's reconstruction term uses one posterior sample per image (seeded, per device), so the
    reported ELBO is an unbiased single-sample estimate. The MSE is that of the deterministic
    reconstruction decode(encode(x)), per pixel.
    """
    device = model_device(model)
    generator = torch.Generator(device=device).manual_seed(seed)
    sums = dict.fromkeys(("total", "reconstruction", "kl", "mse"), 0.0)
    codes = []
    with eval_mode(model):
        for i in range(0, len(test), EVAL_BATCH):
            x = test.images[i : i + EVAL_BATCH].to(device)
            out = model(x, sample=model.variational, generator=generator)
            terms = model.loss(x, out)
            for name in ("total", "reconstruction", "kl"):
                sums[name] += float(getattr(terms, name)) * len(x)
            mean_logits = model.decoder(out.mu) if model.variational else out.logits
            sums["mse"] += float((torch.sigmoid(mean_logits) - x).square().flatten(1).mean(1).sum())
            codes.append(out.mu)
    means = {name: value / len(test) for name, value in sums.items()}
    is_elbo = model.variational and model.config.objective.reconstruction == "bce"
    test_codes = torch.cat(codes).cpu()
    reference_codes = encode_all(model, reference.images).cpu()
    accuracy = knn_accuracy(reference_codes, reference.labels.cpu(), test_codes, test.labels.cpu(), k)
    metrics = EvalMetrics(
        total=means["total"],
        reconstruction=means["reconstruction"],
        kl=means["kl"],
        elbo=-(means["reconstruction"] + means["kl"]) if is_elbo else None,
        knn_accuracy=accuracy,
        mse=means["mse"],
    )
    return Evaluation(metrics, test_codes)


@torch.inference_mode()
def farthest_labels(points: Tensor, labels: Tensor) -> tuple[int, int]:
    """The two labels whose median points (on the plane) lie farthest apart, the smaller first: a
    walk between them crosses the plane instead of hopping between two neighbouring clusters."""
    present = sorted(int(label) for label in torch.unique(labels))
    if len(present) < 2:
        raise ValueError("need test images of two labels")
    medians = torch.stack([points[labels == label].float().median(dim=0).values for label in present])
    distances = torch.cdist(medians, medians)
    i, j = divmod(int(torch.argmax(distances)), len(present))
    return tuple(sorted((present[i], present[j])))  # type: ignore[return-value]


def clear_example(
    model: Autoencoder, test: Split, codes: Tensor, label: int, candidates: int = 200, k: int = 10
) -> int:
    """The index of a test image of `label` whose reconstruction is recognisably that digit.

    Among the `candidates` images of that label whose codes lie nearest the label's median
    code, the one whose decoded image has the most nearest test images (k, in pixel space)
    of that label; ties go to the one nearer the median. (The first 8 of the test set, for
    one, decodes as a 5 under a 2-D VAE.)
    """
    own = torch.nonzero(test.labels == label).flatten()
    if len(own) == 0:
        raise ValueError(f"no test image of label {label}")
    median = codes[own].float().median(dim=0).values
    order = torch.sort(torch.linalg.vector_norm(codes[own].float() - median, dim=1), stable=True).indices
    shortlist = own[order[:candidates]]
    with eval_mode(model):
        decoded = model.decode(codes[shortlist].float()).flatten(1)
    nearest = torch.cdist(decoded, test.images.flatten(1)).topk(k, largest=False).indices
    votes = (test.labels[nearest] == label).sum(dim=1)
    return int(shortlist[int(torch.nonzero(votes == votes.max()).flatten()[0])])
