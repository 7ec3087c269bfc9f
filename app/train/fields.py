"""The fields of the Train page's model builder, as one object, and the `JobSpec` they describe.

Every widget of the builder keeps its value in the session state under `field_key(name)`;
`TrainFields` reads and writes all of them at once, so no key is spelled in two places.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from app.jobs.spec import JobSpec
from models.families.config import CODE_NOISE_ON_A_VAE, ConvConfig, DenseConfig, Objective, parse_sizes
from models.families.registry import family_of
from models.files.data import DEFAULT_DATASET
from models.training.config import TrainConfig
from models.training.presets import DEFAULT_PRESET, Preset

KEY_PREFIX = "train_"
CUSTOM = "custom"  # the preset choice for a model built by hand
# 5 epochs of the dense 2-D VAE: about a minute on a laptop CPU, and the clusters are clear.
DEFAULT_EPOCHS = 5
VARIANTS = ("plain", "denoising", "sparse", "contractive", "regularised")
# A regularised AE's defaults: the settings of the best runs in the README's table.
CODE_NOISE, CODE_PENALTY = 0.15, 0.5
KINDS = ("Dense", "Convolutional")
ALL_DIGITS = tuple(range(10))


def field_key(name: str) -> str:
    """The session-state key (and widget key) of a builder field."""
    return KEY_PREFIX + name


@dataclass
class TrainFields:
    """What the builder's widgets hold (text fields as typed, numbers as numbers)."""

    preset: str  # a preset name, or CUSTOM
    kind: str  # "Dense" or "Convolutional"
    variational: bool
    latent: int
    hidden: str  # dense layer widths, e.g. "512, 256"
    channels: str  # conv channels, e.g. "32, 64"
    style: str  # "strided" or "pool"
    dense: int  # conv: width of the dense layers before the code (0: none)
    activation: str
    batch_norm: bool
    reconstruction: str  # "bce" or "mse"
    beta: float
    variant: str  # one of VARIANTS
    noise: str
    noise_level: float
    sparsity: str
    sparsity_weight: float
    contractive_weight: float
    epochs: int
    batch: int
    lr: float
    subset: int  # 0: all training images
    name: str  # the file name, as typed
    title: str
    overwrite: bool = False
    dense_layers: int = 1  # conv: how many dense layers of that width
    code_noise: float = CODE_NOISE  # regularised AE: std of the noise on the code
    code_penalty: float = CODE_PENALTY  # regularised AE: weight of half the squared length of the code
    digits: list[int] = field(default_factory=lambda: list(ALL_DIGITS))  # the digits to train on

    @classmethod
    def from_preset(cls, preset: Preset) -> TrainFields:
        config, objective, training = preset.config, preset.config.objective, preset.training
        conv = isinstance(config, ConvConfig)
        return cls(
            preset=preset.name,
            kind=KINDS[1] if conv else KINDS[0],
            variational=preset.family.endswith("vae"),
            latent=config.latent_dim,
            hidden="512, 256" if conv else ", ".join(map(str, config.hidden)),
            channels=", ".join(map(str, config.channels)) if conv else "32, 64",
            style=config.style if conv else "strided",
            dense=config.dense if conv else 0,
            dense_layers=config.dense_layers if conv else 1,
            activation=config.activation,
            batch_norm=config.batch_norm,
            reconstruction=objective.reconstruction,
            beta=objective.beta,
            variant=_variant(objective),
            noise=objective.noise if objective.noise != "none" else "gaussian",
            noise_level=objective.noise_level,
            sparsity=objective.sparsity if objective.sparsity != "none" else "l1",
            sparsity_weight=objective.sparsity_weight,
            contractive_weight=objective.contractive_weight or 1e-2,
            epochs=DEFAULT_EPOCHS if preset.name == DEFAULT_PRESET else training.epochs,
            batch=training.batch_size,
            lr=training.lr,
            subset=training.subset or 0,
            name=f"my_{preset.name}",
            title=f"{preset.title} (mine)",
            digits=list(training.digits or ALL_DIGITS),
            code_noise=objective.code_noise or CODE_NOISE,
            code_penalty=objective.code_penalty or CODE_PENALTY,
        )

    @classmethod
    def read(cls, state: MutableMapping[str, Any]) -> TrainFields:
        return cls(**{f.name: state[field_key(f.name)] for f in fields(cls) if field_key(f.name) in state})

    @classmethod
    def keep(cls, state: MutableMapping[str, Any]) -> None:
        """Hand every field's value back to the session state, so that it outlives a run that does
        not draw its widget (Streamlit forgets those: a dense model's hidden sizes while a conv
        model is built, say), and the fields can always be read."""
        for f in fields(cls):
            if field_key(f.name) in state:
                state[field_key(f.name)] = state[field_key(f.name)]

    def write(self, state: MutableMapping[str, Any]) -> None:
        for name, value in asdict(self).items():
            state[field_key(name)] = value

    def spec(self) -> JobSpec:
        """The spec these fields describe; ValueError saying what is wrong with them."""
        default = Objective()
        denoising, sparse, regularised = (self.variant == name for name in ("denoising", "sparse", "regularised"))
        objective = Objective(
            reconstruction=self.reconstruction,
            beta=float(self.beta) if self.variational else 1.0,
            noise=self.noise if denoising else "none",
            noise_level=float(self.noise_level) if denoising else default.noise_level,
            sparsity=self.sparsity if sparse else "none",
            sparsity_weight=float(self.sparsity_weight) if sparse else default.sparsity_weight,
            contractive_weight=float(self.contractive_weight) if self.variant == "contractive" else 0.0,
            code_noise=float(self.code_noise) if regularised else 0.0,
            code_penalty=float(self.code_penalty) if regularised else 0.0,
        )
        common = {"latent_dim": int(self.latent), "activation": self.activation, "batch_norm": self.batch_norm,
                  "objective": objective}  # fmt: skip
        if self.kind == KINDS[0]:
            config: Any = DenseConfig(hidden=_sizes(self.hidden, "hidden layer sizes"), **common)
        else:
            config = ConvConfig(channels=_sizes(self.channels, "conv channels", allow_empty=False), style=self.style,
                                dense=int(self.dense), dense_layers=int(self.dense_layers), **common)  # fmt: skip
        if self.variational and objective.code_noise > 0:
            raise ValueError(CODE_NOISE_ON_A_VAE)
        if not self.digits:
            raise ValueError("choose at least one digit to train on")
        digits = tuple(sorted(set(self.digits)))
        # precision "auto": bfloat16 where the hardware does it natively, for a class waiting on a run.
        training = TrainConfig(epochs=int(self.epochs), batch_size=int(self.batch), lr=float(self.lr),
                               subset=int(self.subset) or None,
                               digits=None if digits == ALL_DIGITS else digits, precision="auto")  # fmt: skip
        return JobSpec(family_of(type(config), self.variational), config, training, self.name, self.title,
                       dataset=DEFAULT_DATASET, preset=None if self.preset == CUSTOM else self.preset,
                       overwrite=bool(self.overwrite))  # fmt: skip


def _sizes(text: str, what: str, allow_empty: bool = True) -> tuple[int, ...]:
    """`parse_sizes`, its ValueError naming the field."""
    try:
        return parse_sizes(text, allow_empty)
    except ValueError as error:
        raise ValueError(f"{what}: {error}") from None


def _variant(objective: Objective) -> str:
    if objective.noise != "none":
        return "denoising"
    if objective.sparsity != "none":
        return "sparse"
    if objective.code_noise > 0 or objective.code_penalty > 0:
        return "regularised"
    return "contractive" if objective.contractive_weight > 0 else "plain"
