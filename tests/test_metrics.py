"""Test metrics: the exact fast k-NN, per-image reconstruction errors, the MSE metric."""

from __future__ import annotations

import pytest
import torch

from models.evaluation import neighbours
from models.evaluation.metrics import compute_metrics, reconstruction_errors
from models.evaluation.neighbours import knn_accuracy, nearest_neighbours
from models.families.config import DenseConfig
from models.families.registry import get_model
from models.files.checkpoint import load_checkpoint
from models.files.data import Split
from models.files.store import CHECKPOINT_DIR


def _brute_force(reference: torch.Tensor, query: torch.Tensor, k: int) -> torch.Tensor:
    distances = torch.cdist(query.double(), reference.double(), compute_mode="donot_use_mm_for_euclid_dist")
    return distances.topk(k, dim=1, largest=False).indices


def _clusters(count: int, dim: int, seed: int) -> torch.Tensor:
    """Points like a 2-D latent space: dense blobs of different sizes, and some stragglers."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(10, dim, generator=generator) * 3
    which = torch.randint(0, 10, (count,), generator=generator)
    spread = torch.rand(10, 1, generator=generator) * 0.8 + 0.05
    points = centres[which] + torch.randn(count, dim, generator=generator) * spread[which]
    points[: count // 50] *= 4  # outliers far from the blobs
    return points


@pytest.mark.parametrize("dim", [1, 2, 3, 8])
@pytest.mark.parametrize("count", [100, 3000, 20_000])
def test_nearest_neighbours_are_exact(dim: int, count: int) -> None:
    reference, query = _clusters(count, dim, seed=0), _clusters(2000, dim, seed=1)
    found = nearest_neighbours(reference, query, 5)
    expected = _brute_force(reference, query, 5)
    found_distances = (reference[found] - query[:, None]).norm(dim=-1)
    expected_distances = (reference[expected] - query[:, None]).norm(dim=-1)
    assert torch.allclose(found_distances, expected_distances, atol=1e-5)
    assert (found == expected).float().mean() > 0.999  # the same points, but for exact ties


def test_the_grid_settles_most_2d_queries_exactly_and_hands_the_rest_on() -> None:
    reference, query = _clusters(20_000, 2, seed=0), _clusters(2000, 2, seed=1)
    grid = neighbours._Grid(reference)
    expected = _brute_force(reference, query, 5)
    result = torch.empty(len(query), 5, dtype=torch.int64)
    bound = grid.neighbours(query, 5, result)
    settled = bound == 0
    assert torch.equal(result[settled], expected[settled]) and 0.2 < float(settled.float().mean()) < 1
    found = (reference[expected] - query[:, None]).norm(dim=-1)[:, -1]
    assert (bound[~settled] >= found[~settled] - 1e-6).all()  # an upper bound of the k-th distance
    rest = ~settled
    boxed = torch.empty(int(rest.sum()), 5, dtype=torch.int64)
    done = grid.box_neighbours(query[rest], bound[rest], 5, boxed)
    assert float(done.float().mean()) > 0.9
    assert torch.equal(boxed[done], expected[rest][done])


def test_nearest_neighbours_with_duplicates_and_few_points() -> None:
    reference = torch.zeros(5000, 2)
    reference[2500:] = 1.0
    query = torch.tensor([[0.1, 0.1], [0.9, 0.9]])
    found = nearest_neighbours(reference, query, 5)
    assert (found[0] < 2500).all() and (found[1] >= 2500).all()
    assert nearest_neighbours(torch.randn(3, 2), torch.randn(4, 2), 5).shape == (4, 3)


def test_knn_accuracy_votes_with_the_nearest_breaking_ties() -> None:
    reference = torch.tensor([[0.0], [1.0], [2.0], [10.0], [11.0]])
    labels = torch.tensor([0, 0, 1, 1, 2])
    query = torch.tensor([[0.5], [10.4], [1.9]])
    assert knn_accuracy(reference, labels, query, torch.tensor([0, 1, 1]), k=2) == 1.0
    assert knn_accuracy(reference, labels, query, torch.tensor([0, 1, 0]), k=2) == pytest.approx(2 / 3)


def _model(variational: bool = False) -> torch.nn.Module:
    torch.manual_seed(0)
    return get_model("dense_vae" if variational else "dense_ae", DenseConfig(hidden=(32,))).eval()


@pytest.mark.parametrize("variational", [False, True])
def test_reconstruction_errors_per_image(variational: bool, mnist_test: Split) -> None:
    model = _model(variational)
    images = mnist_test.images[:50]
    errors = reconstruction_errors(model, images, batch_size=16)
    with torch.inference_mode():
        decoded = model.decode(model.encode(images))
    assert errors.shape == (50,) and errors.dtype == torch.float32
    assert torch.allclose(errors, (decoded - images).square().flatten(1).mean(1), atol=1e-6)
    bce = reconstruction_errors(model, images, kind="bce")
    expected = torch.nn.functional.binary_cross_entropy(decoded, images, reduction="none").flatten(1).sum(1)
    assert torch.allclose(bce, expected, rtol=1e-3)
    assert model.training is False  # left as it was
    assert reconstruction_errors(model, images[:0]).shape == (0,)
    with pytest.raises(ValueError, match="mse"):
        reconstruction_errors(model, images, kind="l1")


def test_the_worst_reconstructions_stand_out(mnist_test: Split) -> None:
    """What the anomaly-detection demonstration relies on: a digit turned into noise scores worst."""
    model = load_checkpoint(CHECKPOINT_DIR / "dense_ae_2d.safetensors").model
    images = mnist_test.images[:20].clone()
    images[7] = torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(0))
    errors = reconstruction_errors(model, images)
    assert int(errors.argmax()) == 7


@pytest.mark.parametrize("variational", [False, True])
def test_compute_metrics_reports_the_mse_of_the_mean_reconstruction(variational: bool, mnist_test: Split) -> None:
    model = _model(variational)
    test = Split(mnist_test.images[:300], mnist_test.labels[:300])
    evaluation = compute_metrics(model, test, test, k=5, seed=0)
    expected = float(reconstruction_errors(model, test.images).mean())
    assert evaluation.metrics.mse == pytest.approx(expected, rel=1e-5)
    assert "MSE" in evaluation.metrics.summary()
    assert evaluation.codes.shape == (300, 2)
