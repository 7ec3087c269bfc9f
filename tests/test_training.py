"""The training engine: event stream, reproducibility, stop requests, divergence."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from models.config import DenseConfig
from models.data import Split
from models.engine import EpochResult, StepProgress, TrainConfig, TrainingFinished, train
from models.registry import get_model

TINY = TrainConfig(epochs=2, batch_size=64, subset=640, knn_reference=500)


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return get_model("dense_vae", DenseConfig(hidden=(64,)))


def _small_test(split: Split) -> Split:
    return Split(split.images[:500], split.labels[:500])


def test_event_stream(mnist_train: Split, mnist_test: Split) -> None:
    events = list(train(_model(), mnist_train, _small_test(mnist_test), TINY))
    steps = [e for e in events if isinstance(e, StepProgress)]
    epochs = [e for e in events if isinstance(e, EpochResult)]
    assert len(steps) == 2 * 10 and steps[-1].global_step == steps[-1].total_steps == 20
    assert [e.epoch for e in epochs] == [1, 2]
    assert events[-1] == TrainingFinished("finished", 2, "Trained 2 epochs.")
    assert set(steps[0].losses) == {"total", "reconstruction", "kl", "penalty"}
    assert steps[-1].images_per_s > 0 and steps[-1].elapsed > 0
    assert epochs[1].test.elbo is not None and epochs[1].test.elbo < 0
    assert 0.1 < epochs[1].test.knn_accuracy <= 1
    assert epochs[1].train["total"] < steps[0].losses["total"]


def test_training_is_reproducible(mnist_train: Split, mnist_test: Split) -> None:
    config = replace(TINY, epochs=1)
    first, second = _model(), _model()
    list(train(first, mnist_train, _small_test(mnist_test), config))
    list(train(second, mnist_train, _small_test(mnist_test), config))
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_stop_request_is_honoured_between_steps(mnist_train: Split, mnist_test: Split) -> None:
    seen = 0

    def stop_after_three() -> bool:
        return seen >= 3

    events = []
    for event in train(_model(), mnist_train, _small_test(mnist_test), TINY, should_stop=stop_after_three):
        events.append(event)
        seen += isinstance(event, StepProgress)
    assert sum(isinstance(e, StepProgress) for e in events) == 3
    assert isinstance(events[-1], TrainingFinished) and events[-1].status == "stopped"


def test_divergence_stops_and_keeps_the_last_good_weights(mnist_train: Split, mnist_test: Split) -> None:
    model = _model()
    list(train(model, mnist_train, _small_test(mnist_test), replace(TINY, epochs=1)))
    good = {k: v.clone() for k, v in model.state_dict().items()}
    events = list(train(model, mnist_train, _small_test(mnist_test), replace(TINY, epochs=2, lr=1e9)))
    finished = events[-1]
    assert isinstance(finished, TrainingFinished) and finished.status == "diverged"
    assert "NaN" in finished.message and "learning rate" in finished.message
    for name, value in model.state_dict().items():
        assert torch.isfinite(value.float()).all(), name
    assert finished.epochs_completed == 0  # it blows up within the first epoch
    for name, value in model.state_dict().items():
        assert torch.equal(value, good[name]), name  # the weights from before this run are back


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (TrainConfig(epochs=0), "epochs"),
        (TrainConfig(lr=0), "learning rate"),
        (TrainConfig(lr=float("nan")), "learning rate"),
        (TrainConfig(subset=100, batch_size=128), "batch size"),
        (TrainConfig(subset=0), "subset"),
        (TrainConfig(batch_size=1), "batch size"),
    ],
)
def test_invalid_training_configs(config: TrainConfig, message: str, mnist_train: Split, mnist_test: Split) -> None:
    with pytest.raises(ValueError, match=message):
        next(train(_model(), mnist_train, mnist_test, config))
