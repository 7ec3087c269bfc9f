"""The Train page's builder fields: every preset survives a trip through them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.jobs.spec import JobSpec, normalise_spec
from app.train.fields import TrainFields
from models.families.config import ConvConfig
from models.training.presets import PRESETS


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_builds_the_same_model_through_the_fields(name: str) -> None:
    spec = TrainFields.from_preset(PRESETS[name]).spec()
    assert isinstance(spec, JobSpec), spec
    assert spec.family == PRESETS[name].family and spec.config == PRESETS[name].config


@pytest.mark.parametrize("dense_layers", [1, 2, 5])
def test_conv_dense_layers_reach_the_model_config(dense_layers: int) -> None:
    fields = replace(TrainFields.from_preset(PRESETS["conv_vae_2d"]), dense=64, dense_layers=dense_layers)
    spec = fields.spec()
    assert isinstance(spec, JobSpec) and isinstance(spec.config, ConvConfig)
    assert (spec.config.dense, spec.config.dense_layers) == (64, dense_layers)


def test_too_many_dense_layers_are_named() -> None:
    fields = replace(TrainFields.from_preset(PRESETS["conv_vae_2d"]), dense=64, dense_layers=99)
    with pytest.raises(ValueError, match="dense_layers"):
        normalise_spec(fields.spec())
