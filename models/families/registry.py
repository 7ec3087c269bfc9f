"""Model registry: `register_model`, `get_model(name, config)`, `list_models()`.

Each registered name is one model family (a class) with its config dataclass, so a
checkpoint that stores (name, config) can always be rebuilt exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import torch

from models.families.base import Autoencoder

# Far above every preset and far below what would hurt a laptop: 25 M float32 parameters are 100 MB.
MAX_PARAMETERS = 25_000_000

_MODELS: dict[str, type[Autoencoder]] = {}
_CONFIGS: dict[str, type] = {}

ModelClass = TypeVar("ModelClass", bound=type[Autoencoder])


def register_model(name: str, config_class: type) -> Callable[[ModelClass], ModelClass]:
    """Class decorator that makes a model family available under `name`."""

    def decorator(cls: ModelClass) -> ModelClass:
        if name in _MODELS:
            raise ValueError(f"model {name!r} is already registered")
        _MODELS[name] = cls
        _CONFIGS[name] = config_class
        return cls

    return decorator


def list_models() -> list[str]:
    """Names of all registered model families, sorted."""
    _load_families()
    return sorted(_MODELS)


def is_variational(name: str) -> bool:
    """Whether the registered family `name` is a VAE (its KL weight, beta, then matters)."""
    _check_known(name)
    return _MODELS[name].variational


def family_title(name: str) -> str:
    """What the registered family `name` is called in the app, e.g. "dense VAE"."""
    _check_known(name)
    return _MODELS[name].title


def family_of(config: type, variational: bool) -> str:
    """The registered family built from a `config` dataclass, as an autoencoder or as a VAE."""
    _load_families()
    for name, cls in _MODELS.items():
        if _CONFIGS[name] is config and cls.variational == variational:
            return name
    kind = "VAE" if variational else "autoencoder"
    raise ValueError(f"no registered {kind} family takes a {config.__name__}")


def config_class(name: str) -> type:
    """The config dataclass of a registered model family."""
    _check_known(name)
    return _CONFIGS[name]


def get_model(name: str, config: Any = None) -> Autoencoder:
    """Build a fresh model of family `name` (default config if none is given).

    Raises ValueError, before allocating anything, for a model over `MAX_PARAMETERS`.
    """
    config = _checked_config(name, config)
    count = parameter_count(name, config)
    if count > MAX_PARAMETERS:
        raise ValueError(f"this model would have {count:,} parameters; the limit is {MAX_PARAMETERS:,}")
    return _MODELS[name](config)


def state_shapes(name: str, config: Any) -> dict[str, torch.Size]:
    """The shape of every state-dict entry of the model, computed without allocating its weights."""
    config = _checked_config(name, config)
    with torch.device("meta"):  # parameters on the meta device have shapes but no storage
        model = _MODELS[name](config)
    return {key: value.shape for key, value in model.state_dict().items()}


def parameter_count(name: str, config: Any) -> int:
    """Numbers in the model's state dict (weights and batch-norm statistics), without building it."""
    return sum(shape.numel() for shape in state_shapes(name, config).values())


def _checked_config(name: str, config: Any) -> Any:
    _check_known(name)
    cls = _CONFIGS[name]
    if config is None:
        config = cls()
    if not isinstance(config, cls):
        raise TypeError(f"model {name!r} takes a {cls.__name__}, got {type(config).__name__}")
    return config


def _check_known(name: str) -> None:
    _load_families()
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(_MODELS))}")


def _load_families() -> None:
    # Importing the family modules runs their @register_model decorators.
    from models.families import conv, dense  # noqa: F401
