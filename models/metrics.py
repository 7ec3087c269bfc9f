"""Test-set evaluation: loss terms, ELBO, and k-NN accuracy of the latent codes.

(None stands for a metric a stored checkpoint does not have; a fresh evaluation has them all.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from models.base import Autoencoder, eval_mode
from models.data import Split

EVAL_BATCH = 1000
KNN_QUERY_CHUNK = 1024


@dataclass(frozen=True)
class EvalMetrics:
    """Mean per-image terms over a test set, plus latent-space quality."""

    total: float | None  # the training objective (reconstruction + beta * kl + sparsity penalty)
    reconstruction: float | None  # per image, summed over pixels (BCE in nats, or squared error)
    kl: float | None  # per image (0 for plain autoencoders)
    elbo: float | None  # -(reconstruction + kl) in nats per image; VAEs with BCE only
    knn_accuracy: float | None  # share of test codes whose k nearest training codes vote the right label

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
        if self.knn_accuracy is not None:
            parts.append(f"k-NN accuracy {self.knn_accuracy:.1%}")
        return ", ".join(parts) or "no test metrics"


class Evaluation(NamedTuple):
    """The test metrics, and the test codes they were computed from (reused, never recomputed)."""

    metrics: EvalMetrics
    codes: Tensor  # (N, latent_dim) posterior means of the test images, in their order


@torch.inference_mode()
def encode_all(model: Autoencoder, images: Tensor, batch_size: int = EVAL_BATCH) -> Tensor:
    """Codes (posterior means) of all images, in eval mode, shape (N, latent_dim)."""
    with eval_mode(model):
        return torch.cat([model.encode(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])


def knn_accuracy(reference: Tensor, reference_labels: Tensor, query: Tensor, query_labels: Tensor, k: int = 5) -> float:
    """Accuracy of a k-nearest-neighbour vote (Euclidean) of query codes among reference codes."""
    correct = 0
    classes = int(max(reference_labels.max(), query_labels.max())) + 1
    for start in range(0, len(query), KNN_QUERY_CHUNK):
        chunk = query[start : start + KNN_QUERY_CHUNK]
        nearest = torch.cdist(chunk, reference).topk(k, dim=1, largest=False).indices
        votes = torch.nn.functional.one_hot(reference_labels[nearest], classes).sum(1)
        # Ties go to the nearest neighbour's label: add a small bonus to it.
        votes = votes.float() + 0.5 * torch.nn.functional.one_hot(reference_labels[nearest[:, 0]], classes)
        correct += int((votes.argmax(1) == query_labels[start : start + KNN_QUERY_CHUNK]).sum())
    return correct / len(query)


@torch.inference_mode()
def compute_metrics(model: Autoencoder, test: Split, reference: Split, k: int = 5, seed: int = 0) -> Evaluation:
    """Evaluate on `test`; `reference` (training images) is the k-NN reference set.

    A VAE's reconstruction term uses one posterior sample per image (seeded), so the
    reported ELBO is an unbiased single-sample estimate.
    """
    generator = torch.Generator().manual_seed(seed)
    sums = dict.fromkeys(("total", "reconstruction", "kl"), 0.0)
    codes = []
    with eval_mode(model):
        for i in range(0, len(test), EVAL_BATCH):
            x = test.images[i : i + EVAL_BATCH]
            out = model(x, sample=model.variational, generator=generator)
            terms = model.loss(x, out)
            for name in sums:
                sums[name] += float(getattr(terms, name)) * len(x)
            codes.append(out.mu)
    means = {name: value / len(test) for name, value in sums.items()}
    is_elbo = model.variational and model.config.objective.reconstruction == "bce"
    test_codes = torch.cat(codes)
    accuracy = knn_accuracy(encode_all(model, reference.images), reference.labels, test_codes, test.labels, k)
    metrics = EvalMetrics(
        total=means["total"],
        reconstruction=means["reconstruction"],
        kl=means["kl"],
        elbo=-(means["reconstruction"] + means["kl"]) if is_elbo else None,
        knn_accuracy=accuracy,
    )
    return Evaluation(metrics, test_codes)


@torch.inference_mode()
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
