"""The regularised autoencoder: noise on the code while training, and a penalty on its length."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from app.train.fields import TrainFields
from models import train as train_cli
from models.families import losses
from models.families.config import CODE_NOISE_ON_A_VAE, ConvConfig, DenseConfig, Objective
from models.families.registry import get_model
from models.files.checkpoint import load_checkpoint
from models.files.data import Split
from models.training.presets import PRESETS

REGULARISED = Objective(code_noise=0.3, code_penalty=0.5)


def test_the_code_penalty_is_half_the_squared_length() -> None:
    code = torch.tensor([[3.0, 4.0], [0.0, 1.0]])
    assert losses.code_penalty(code) == pytest.approx((25 / 2 + 1 / 2) / 2)


@pytest.mark.parametrize(
    ("family", "config"),
    [("dense_ae", DenseConfig(hidden=(32,), objective=REGULARISED)),
     ("conv_ae", ConvConfig(channels=(4, 8), dense=16, dense_layers=2, objective=REGULARISED))],
)  # fmt: skip
def test_noise_reaches_the_code_only_while_training(family: str, config: object, mnist_test: Split) -> None:
    torch.manual_seed(0)
    model = get_model(family, config)
    x = mnist_test.images[:64]
    out = model.train()(x, generator=torch.Generator().manual_seed(1))
    spread = (out.z - out.mu).std().item()
    assert spread == pytest.approx(0.3, rel=0.15)  # the noise's std, on 128 numbers
    assert model.loss(x, out).penalty.item() == pytest.approx(0.5 * losses.code_penalty(out.mu).item())
    evaluated = model.eval()(x)
    assert torch.equal(evaluated.z, evaluated.mu)  # deterministic codes wherever the app uses them
    assert torch.equal(model.encode(x), model.encode(x))


def test_a_plain_autoencoder_is_unchanged() -> None:
    torch.manual_seed(0)
    model = get_model("dense_ae", DenseConfig(hidden=(16,))).train()
    out = model(torch.rand(4, 1, 28, 28))
    assert torch.equal(out.z, out.mu) and model.loss(torch.rand(4, 1, 28, 28), out).penalty == 0


@pytest.mark.parametrize(
    ("objective", "message"),
    [(Objective(code_noise=-0.1), "code_noise"), (Objective(code_noise=11.0), "code_noise"),
     (Objective(code_penalty=-1.0), "penalty weights"), (Objective(code_noise=float("nan")), "finite")],
)  # fmt: skip
def test_bad_settings_are_named(objective: Objective, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        objective.validate()


def test_a_vae_refuses_code_noise() -> None:
    with pytest.raises(ValueError, match=CODE_NOISE_ON_A_VAE):
        get_model("dense_vae", DenseConfig(hidden=(16,), objective=REGULARISED))


def test_the_cli_trains_a_regularised_ae(tmp_path: Path, mnist_train: Split) -> None:
    out = tmp_path / "rae"
    args = ["--preset", "dense_ae_2d", "--hidden", "32", "--code-noise", "0.3", "--code-penalty", "0.5",
            "--epochs", "1", "--subset", "512", "--knn-reference", "1000", "--quiet", "--out", str(out)]  # fmt: skip
    assert train_cli.main(args) == 0
    _, info = load_checkpoint(out.with_suffix(".safetensors"))
    assert (info.config.objective.code_noise, info.config.objective.code_penalty) == (0.3, 0.5)
    assert info.config.objective.variant == "regularised (code noise 0.3, penalty 0.5)"


def test_the_train_page_builds_one() -> None:
    fields = TrainFields.from_preset(PRESETS["dense_ae_2d"])
    fields.variant = "regularised"
    spec = fields.spec()
    assert spec.config.objective.code_noise > 0 and spec.config.objective.code_penalty > 0
    fields.variational = True
    with pytest.raises(ValueError, match=CODE_NOISE_ON_A_VAE):
        fields.spec()
