"""The training engine: event stream, reproducibility, stop requests, divergence."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import pytest
import torch

from models.families.config import DenseConfig
from models.families.registry import get_model
from models.files.data import Split
from models.training.config import TrainConfig
from models.training.events import EpochResult, StepProgress, TrainingFinished
from models.training.loop import evaluation_splits, train
from models.training.optimiser import make_optimizer
from models.training.replay import replay_sample, snapshot
from models.training.schedule import kl_weight, scheduled_lr

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


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (TrainConfig(schedule="linear"), "schedule"),
        (TrainConfig(weight_decay=-1e-4), "weight decay"),
        (TrainConfig(kl_warmup=-1), "KL warm-up"),
        (TrainConfig(digits=()), "digits"),
        (TrainConfig(digits=(1, 1)), "digits"),
        (TrainConfig(digits=(10,)), "digits"),
        (TrainConfig(device="tpu"), "device"),
    ],
)
def test_invalid_new_settings(config: TrainConfig, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config.validate(60_000)


def test_the_learning_rate_schedules() -> None:
    total = 1000
    constant = TrainConfig(lr=2e-3)
    assert {scheduled_lr(constant, step, total) for step in range(total)} == {2e-3}
    cosine = [scheduled_lr(TrainConfig(lr=2e-3, schedule="cosine"), step, total) for step in range(total)]
    assert cosine[0] == pytest.approx(2e-3) and cosine[-1] == pytest.approx(0, abs=1e-12)
    assert all(a >= b for a, b in itertools.pairwise(cosine))
    onecycle = [scheduled_lr(TrainConfig(lr=2e-3, schedule="onecycle"), step, total) for step in range(total)]
    peak = max(range(total), key=onecycle.__getitem__)
    assert onecycle[0] == pytest.approx(2e-3 / 25) and onecycle[peak] == pytest.approx(2e-3, rel=1e-4)
    assert peak == pytest.approx(0.3 * total, abs=2) and onecycle[-1] == pytest.approx(2e-3 / 25 / 1e4)
    assert all(a <= b for a, b in itertools.pairwise(onecycle[: peak + 1]))
    assert all(a >= b for a, b in itertools.pairwise(onecycle[peak:]))


def test_the_kl_warm_up_ramps_to_beta() -> None:
    config = TrainConfig(kl_warmup=2)
    weights = [kl_weight(config, 4.0, step, steps_per_epoch=10) for step in range(30)]
    assert weights[0] == pytest.approx(0.2) and weights[19:] == [4.0] * 11
    assert all(a < b for a, b in itertools.pairwise(weights[:20]))
    assert kl_weight(TrainConfig(), 4.0, 0, 10) == 4.0  # no warm-up


def test_the_engine_follows_the_schedule_and_the_warm_up(mnist_train: Split, mnist_test: Split) -> None:
    config = replace(TINY, schedule="onecycle", kl_warmup=2, lr=3e-3)
    events = list(train(_model(), mnist_train, _small_test(mnist_test), config))
    steps = [e for e in events if isinstance(e, StepProgress)]
    assert [e.lr for e in steps] == [scheduled_lr(config, i, 20) for i in range(20)]
    first = steps[0].losses  # the KL weight is 1/20 of beta on the first step
    assert first["total"] == pytest.approx(first["reconstruction"] + first["kl"] / 20, rel=1e-5)
    last = steps[-1].losses  # and beta on the last
    assert last["total"] == pytest.approx(last["reconstruction"] + last["kl"], rel=1e-5)
    epoch = [e for e in events if isinstance(e, EpochResult)][-1]
    assert epoch.test.total == pytest.approx(epoch.test.reconstruction + epoch.test.kl, rel=1e-5)


def test_weight_decay_uses_adamw() -> None:
    assert type(make_optimizer(_model(), 1e-3)) is torch.optim.Adam
    optimizer = make_optimizer(_model(), 1e-3, weight_decay=1e-4)
    assert type(optimizer) is torch.optim.AdamW and optimizer.param_groups[0]["weight_decay"] == 1e-4


def test_training_on_chosen_digits(mnist_train: Split, mnist_test: Split) -> None:
    digits = (0, 1, 4, 7)
    test = _small_test(mnist_test)
    events = list(train(_model(), mnist_train, test, replace(TINY, digits=digits)))
    epoch = [e for e in events if isinstance(e, EpochResult)][-1]
    chosen = test.with_digits(digits)
    assert len(epoch.test_codes) == len(chosen) == int(torch.isin(test.labels, torch.tensor(digits)).sum())
    assert set(chosen.labels.tolist()) == set(digits)
    assert epoch.test.knn_accuracy > 0.5  # four classes are easier than ten
    test_split, reference = evaluation_splits(mnist_train, test, replace(TINY, digits=digits))
    assert torch.equal(test_split.labels, chosen.labels) and set(reference.labels.tolist()) == set(digits)
    with pytest.raises(ValueError, match="subset"):  # the subset must fit the chosen digits
        next(train(_model(), mnist_train, test, replace(TINY, digits=(0,), subset=7000)))


def test_train_config_round_trips_through_a_dict() -> None:
    config = TrainConfig(digits=(0, 1, 4, 7), schedule="cosine", kl_warmup=3, weight_decay=1e-4, device="cpu")
    data = config.to_dict()
    assert data["digits"] == [0, 1, 4, 7]
    assert TrainConfig.from_dict(json.loads(json.dumps(data))) == config
    assert TrainConfig.from_dict({"epochs": 3, "a_setting_from_the_future": 1}) == TrainConfig(epochs=3)


def test_a_replay_snapshot_can_reuse_the_epochs_test_codes(mnist_train: Split, mnist_test: Split) -> None:
    test = _small_test(mnist_test)
    model = _model()
    epoch = next(e for e in train(model, mnist_train, test, replace(TINY, epochs=1)) if isinstance(e, EpochResult))
    replay, images, digits = replay_sample(test, size=100)
    encoded = snapshot(model, 1, images, digits)
    reused = snapshot(model, 1, images, digits, codes=epoch.test_codes[replay.index])
    assert torch.allclose(encoded.codes, reused.codes, atol=1e-5)
    assert torch.equal(encoded.reconstructions, reused.reconstructions)
    with pytest.raises(ValueError, match="codes"):
        snapshot(model, 1, images, digits, codes=epoch.test_codes[:5])
