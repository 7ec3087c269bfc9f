"""Test-set evaluation: loss terms, ELBO, and k-NN accuracy of the latent codes.

(None stands for a metric a stored checkpoint does not have; a fresh evaluation has them all.)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from models.base import Autoencoder, eval_mode
from models.data import Split

EVAL_BATCH = 1000
KNN_QUERY_CHUNK = 64  # brute-force k-NN queries per chunk (64 x 60,000 distances stay in the cache)
GRID_DIM = 2  # 2-D codes go through the grid (see _Grid); others: brute force (the grid rarely settles 3-D)
GRID_MIN_REFERENCE = 2000  # fewer reference points: brute force is as fast
GRID_POINTS_PER_SLAB_FACTOR = 16  # slabs = sqrt(reference / this): 61 slabs of 984 points for 60,000
GRID_WINDOW = 32  # candidates each side of a query (along the second coordinate) in each of its 3 slabs
GRID_BOX_LIMIT = 8192  # most points in a query's box for the grid's second look (more: brute force)
GRID_BOX_CHUNK = 128  # queries per box batch
GRID_QUERY_CHUNK = 1024  # queries per grid batch


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


def nearest_neighbours(reference: Tensor, query: Tensor, k: int) -> Tensor:
    """Indices (Q, k) of the k nearest reference points (Euclidean) of each query, nearest first.

    Exact. 2-D codes go through a grid first (see `_Grid`), which settles almost
    every query from a few hundred candidates; the rest, and codes of other sizes, are answered
    by brute force in small chunks (64 queries at a time stay in the cache,
    twice as fast as chunks of a thousand here).
    """
    reference, query = reference.float(), query.float()
    k = min(k, len(reference))
    result = torch.empty(len(query), k, dtype=torch.int64, device=query.device)
    todo = torch.arange(len(query), device=query.device)
    if query.shape[1] == GRID_DIM and len(reference) >= GRID_MIN_REFERENCE:
        grid = _Grid(reference)
        radius = grid.neighbours(query, k, result)
        todo = todo[radius > 0]  # the unsettled ones: look again inside the box their radius bounds
        if len(todo):
            found = torch.empty(len(todo), k, dtype=torch.int64, device=query.device)
            settled = grid.box_neighbours(query[todo], radius[todo], k, found)
            result[todo[settled]] = found[settled]
            todo = todo[~settled]
    for first in range(0, len(todo), KNN_QUERY_CHUNK):
        rows = todo[first : first + KNN_QUERY_CHUNK]
        distances = torch.cdist(query[rows], reference, compute_mode="donot_use_mm_for_euclid_dist")
        result[rows] = distances.topk(k, dim=1, largest=False).indices
    return result


class _Grid:
    """Reference points in slabs of equal count along the first coordinate, each slab sorted
    along the second: the index behind `nearest_neighbours` for 2-D codes."""

    def __init__(self, reference: Tensor) -> None:
        count, dim = reference.shape
        self.slabs = max(3, round(math.sqrt(count / GRID_POINTS_PER_SLAB_FACTOR)))
        self.per = math.ceil(count / self.slabs)
        by_x = reference[:, 0].argsort()
        padding = self.slabs * self.per - count  # the last slab is filled up with points at infinity
        points = torch.cat([reference[by_x], reference.new_full((padding, dim), math.inf)])
        points = points.view(self.slabs, self.per, dim)
        index = torch.cat([by_x, by_x.new_zeros(padding)]).view(self.slabs, self.per)
        self.first_x, self.last_x = points[:, 0, 0].contiguous(), points[:, -1, 0].contiguous()
        by_y = points[:, :, 1].argsort(dim=1)
        self.points = points.gather(1, by_y.unsqueeze(-1).expand(-1, -1, dim))
        self.index = index.gather(1, by_y)
        self.ys = self.points[:, :, 1].contiguous()
        # One sorted sequence for searches within any slab: slab j's ys, shifted by j * gap (float64).
        finite = self.ys[torch.isfinite(self.ys)].double()
        self.bottom = float(finite.min()) if len(finite) else 0.0
        self.gap = (float(finite.max()) - self.bottom if len(finite) else 0.0) + 1.0
        shift = torch.arange(self.slabs, device=reference.device, dtype=torch.float64)[:, None] * self.gap
        self.keys = (self.ys.double() - self.bottom + shift).flatten()

    def neighbours(self, query: Tensor, k: int, result: Tensor) -> Tensor:
        """k nearest neighbours among a few candidates per query, into `result`.

        A query's candidates are a window of 2 * GRID_WINDOW points around it (along the second
        coordinate) in each of the 3 slabs around its own. The answer is exact where every point
        outside the candidates is provably farther than the k-th candidate: the slabs left out lie
        beyond that distance along the first coordinate, and each window reaches beyond it along
        the second (either coordinate alone bounds the distance). Returns 0 for those queries, and
        for the others the distance of their k-th candidate: an upper bound of the k-th distance.
        """
        span, width = min(3, self.slabs), min(2 * GRID_WINDOW, self.per)
        slab = (torch.searchsorted(self.first_x, query[:, 0].contiguous(), right=True) - 1).clamp(0, self.slabs - 1)
        base = (slab - 1).clamp(0, self.slabs - span)
        bound = torch.zeros(len(query), device=query.device)
        offsets, steps = torch.arange(width, device=query.device), torch.arange(span, device=query.device)
        for first in range(0, len(query), GRID_QUERY_CHUNK):
            rows = slice(first, first + GRID_QUERY_CHUNK)
            q, chosen = query[rows], base[rows, None] + steps  # (B, span) slabs
            y = q[:, 1, None]
            rank = torch.searchsorted(self.ys[chosen], y.unsqueeze(-1).expand(-1, span, 1).contiguous()).squeeze(-1)
            start = (rank - width // 2).clamp(0, self.per - width)  # (B, span)
            positions = start.unsqueeze(-1) + offsets  # (B, span, width)
            candidates = self.points[chosen.unsqueeze(-1), positions].flatten(1, 2)
            nearest = (candidates - q[:, None, :]).square().sum(-1).topk(k, dim=1, largest=False)
            radius = nearest.values[:, -1].sqrt()
            x, lo, hi, reach = q[:, 0], chosen[:, 0], chosen[:, -1], radius[:, None]
            x_clear = ((lo == 0) | (x - self.first_x[lo] > radius)) & (
                (hi == self.slabs - 1) | (self.last_x[hi] - x > radius)
            )
            bottom, top = self.ys[chosen, start], self.ys[chosen, start + width - 1]
            y_clear = ((start == 0) | (y - bottom > reach)) & ((start + width == self.per) | (top - y > reach))
            settled = x_clear & y_clear.all(1) & torch.isfinite(radius)
            bound[rows] = torch.where(settled, 0.0, radius)
            result[rows] = self.index[chosen.unsqueeze(-1), positions].flatten(1, 2).gather(1, nearest.indices)
        return bound

    def box_neighbours(self, query: Tensor, radius: Tensor, k: int, result: Tensor) -> Tensor:
        """k nearest neighbours among every point in the square of half-side `radius` around each
        query: exact wherever `radius` bounds the k-th distance from above (the square holds the
        disc). Fills `result`; returns which rows it answered (not those whose square holds more
        than GRID_BOX_LIMIT points, or whose radius is infinite: brute force is the better way)."""
        x, y = query[:, 0].contiguous(), query[:, 1].contiguous()
        low = torch.searchsorted(self.last_x, (x - radius).contiguous())  # first slab reaching x - radius
        high = (torch.searchsorted(self.first_x, (x + radius).contiguous(), right=True) - 1).clamp(min=0)
        count = (high - low + 1).clamp(min=1)
        done = torch.zeros(len(query), dtype=torch.bool, device=query.device)
        usable = torch.isfinite(radius) & (count * self.per <= GRID_BOX_LIMIT * 4)
        order = torch.nonzero(usable).flatten()
        order = order[count[order].argsort(stable=True)]  # alike boxes together: little padding
        for first in range(0, len(order), GRID_BOX_CHUNK):
            rows = order[first : first + GRID_BOX_CHUNK]
            span = int(count[rows].max())
            steps = torch.arange(span, device=query.device)
            chosen = (low[rows, None] + steps).clamp(max=self.slabs - 1)  # (B, span)
            valid = steps < count[rows, None]
            shift = chosen.double() * self.gap - self.bottom
            r, q_y = radius[rows, None].double(), y[rows, None].double()
            # A box reaching past the lowest or highest y would find its rank in the next slab: clamp.
            begin = torch.searchsorted(self.keys, (q_y - r + shift).contiguous()) - chosen * self.per
            end = torch.searchsorted(self.keys, (q_y + r + shift).contiguous(), right=True) - chosen * self.per
            begin, end = begin.clamp(0, self.per), end.clamp(0, self.per)
            lengths = torch.where(valid, end - begin, 0)
            fits = lengths.sum(1) <= GRID_BOX_LIMIT
            size = int(lengths[fits].max()) if fits.any() else 0
            if size == 0:
                continue
            rows, chosen, begin, lengths = rows[fits], chosen[fits], begin[fits], lengths[fits]
            offsets = torch.arange(size, device=query.device)
            inside = (offsets < lengths.unsqueeze(-1)).flatten(1)  # (B, span * size)
            positions = (begin.unsqueeze(-1) + offsets).clamp(0, self.per - 1)
            candidates = self.points[chosen.unsqueeze(-1), positions].flatten(1, 2)
            distances = (candidates - query[rows, None, :]).square().sum(-1).masked_fill(~inside, math.inf)
            nearest = distances.topk(k, dim=1, largest=False)
            result[rows] = self.index[chosen.unsqueeze(-1), positions].flatten(1, 2).gather(1, nearest.indices)
            done[rows] = torch.isfinite(nearest.values[:, -1])
        return done


def knn_accuracy(reference: Tensor, reference_labels: Tensor, query: Tensor, query_labels: Tensor, k: int = 5) -> float:
    """Accuracy of a k-nearest-neighbour vote (Euclidean) of query codes among reference codes."""
    if len(query) == 0:
        return 0.0
    classes = int(max(reference_labels.max(), query_labels.max())) + 1
    nearest = nearest_neighbours(reference, query, k)
    votes = torch.nn.functional.one_hot(reference_labels[nearest], classes).sum(1)
    # Ties go to the nearest neighbour's label: add a small bonus to it.
    votes = votes.float() + 0.5 * torch.nn.functional.one_hot(reference_labels[nearest[:, 0]], classes)
    return int((votes.argmax(1) == query_labels).sum()) / len(query)


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
