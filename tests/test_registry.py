"""The model registry and config validation."""

from __future__ import annotations

import pytest

from models.families.config import ConvConfig, DenseConfig, Objective, config_from_dict, config_to_dict
from models.families.registry import get_model, list_models
from models.training.presets import PRESETS, get_preset, list_presets


def test_families_are_registered() -> None:
    assert list_models() == ["conv_ae", "conv_vae", "dense_ae", "dense_vae"]


def test_unknown_model_lists_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown model 'nope'.*conv_ae.*dense_vae"):
        get_model("nope")


def test_wrong_config_type_is_refused() -> None:
    with pytest.raises(TypeError, match="DenseConfig"):
        get_model("dense_ae", ConvConfig())


def test_unknown_preset_lists_known_ones() -> None:
    with pytest.raises(ValueError, match="dense_vae_2d"):
        get_preset("missing")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (DenseConfig(latent_dim=0), "latent_dim"),
        (DenseConfig(activation="gelu"), "activation"),
        (DenseConfig(hidden=(512, 0)), "hidden"),
        (ConvConfig(kernel_size=4), "kernel_size"),
        (ConvConfig(style="dilated"), "style"),
        (ConvConfig(channels=()), "channels"),
        (DenseConfig(objective=Objective(reconstruction="l1")), "reconstruction"),
        (DenseConfig(objective=Objective(noise="masking", noise_level=1.5)), "noise_level"),
        (DenseConfig(objective=Objective(sparsity="kl", sparsity_target=2.0)), "sparsity_target"),
        (DenseConfig(objective=Objective(beta=-1)), "beta"),
    ],
)
def test_invalid_configs_are_rejected(config: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config.validate()  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", list_presets())
def test_config_round_trips_through_dict(name: str) -> None:
    preset = PRESETS[name]
    assert config_from_dict(type(preset.config), config_to_dict(preset.config)) == preset.config


def test_config_from_dict_refuses_unknown_fields() -> None:
    with pytest.raises(ValueError, match="unknown DenseConfig fields: evil"):
        config_from_dict(DenseConfig, {"latent_dim": 2, "evil": 1})


def test_presets_cover_the_source_architectures() -> None:
    families = {preset.family for preset in PRESETS.values()}
    assert families == set(list_models())
    variants = {preset.config.objective.variant.split(" ")[0] for preset in PRESETS.values()}
    assert {"plain", "denoising", "sparse", "contractive"} <= variants
    keras = get_preset("dense_ae_2d").config
    assert (keras.hidden, keras.latent_dim) == ((512, 256, 64), 2)
    pytorch = get_preset("dense_ae_pytorch").config
    assert (pytorch.hidden, pytorch.latent_dim, pytorch.objective.reconstruction) == ((392,), 196, "mse")
