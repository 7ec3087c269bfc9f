"""A model's decoder as a flat list of simple operations and one float32 buffer, for the browser.

The browser decodes latent points itself (app/plane/js/decoder.js), so the plane can show the
digit under the mouse on every move without asking the server. It runs exactly these ops:

    linear          y = W x + b                       W: (out, in) row-major
    conv2d          stride 1, zero padding `pad`      W: (out, in, k, k)
    conv_transpose2d  stride `stride`, `pad`, `output_pad`   W: (in, out, k, k)
    upsample        nearest neighbour, times `scale`
    reshape         to `shape` (channels, height, width)
    relu / leaky_relu (`slope`) / tanh / sigmoid

Batch norm (in eval mode) is folded into the layer before it, and the final sigmoid of
`Autoencoder.decode` is the last op. Any other module raises ValueError, so a new family
cannot be exported silently wrong. `run_ops` is the reference implementation in NumPy.
"""

from __future__ import annotations

import json
import struct
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from models.families.base import Autoencoder

MAGIC = b"LXD1"  # file format tag of `pack`


class ExportedDecoder(NamedTuple):
    ops: list[dict[str, Any]]  # each with "op" and, for weighted ops, "w"/"b" offsets into `weights`
    weights: np.ndarray  # float32, every op's parameters one after another
    latent_dim: int
    multiply_adds: int  # per decoded image: how heavy decoding is in the browser


def export_decoder(model: Autoencoder) -> ExportedDecoder:
    """The decoder of `model` (its eval-mode behaviour) as ops and one float32 buffer."""
    modules = list(model.decoder.children()) if isinstance(model.decoder, nn.Sequential) else [model.decoder]
    chunks: list[np.ndarray] = []
    offset = 0

    def store(array: torch.Tensor) -> int:
        nonlocal offset
        data = array.detach().to(torch.float32).cpu().contiguous().numpy().ravel()
        chunks.append(data)
        start, offset = offset, offset + data.size
        return start

    ops: list[dict[str, Any]] = []
    shape: tuple[int, ...] = (model.latent_dim,)
    multiply_adds = 0
    index = 0
    while index < len(modules):
        module = modules[index]
        following = modules[index + 1] if index + 1 < len(modules) else None
        norm = following if isinstance(following, (nn.BatchNorm1d, nn.BatchNorm2d)) else None
        if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            weight, bias = _fold(module, norm)
            op, shape, cost = _layer(module, shape)
            ops.append({**op, "w": store(weight), "b": store(bias)})
            multiply_adds += cost
            index += 2 if norm is not None else 1
            continue
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            raise ValueError("batch norm must follow a linear or convolution layer to be folded")
        ops.append(_simple(module, shape))
        if isinstance(module, nn.Unflatten):
            shape = tuple(module.unflattened_size)
        elif isinstance(module, nn.Upsample):
            shape = (shape[0], *(side * int(module.scale_factor) for side in shape[1:]))
        index += 1
    ops.append({"op": "sigmoid"})
    weights = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return ExportedDecoder(ops, weights, model.latent_dim, multiply_adds)


def _fold(module: nn.Module, norm: nn.Module | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight and bias of a layer with the batch norm after it (eval mode) folded in."""
    weight = module.weight.detach().clone()
    out_channels = weight.shape[1] if isinstance(module, nn.ConvTranspose2d) else weight.shape[0]
    bias = module.bias.detach().clone() if module.bias is not None else torch.zeros(out_channels)
    if norm is None:
        return weight, bias
    scale = norm.weight.detach() / torch.sqrt(norm.running_var.detach() + norm.eps)
    shift = norm.bias.detach() - norm.running_mean.detach() * scale
    view = [1] * weight.ndim
    view[1 if isinstance(module, nn.ConvTranspose2d) else 0] = -1
    return weight * scale.view(view), bias * scale + shift


def _layer(module: nn.Module, shape: tuple[int, ...]) -> tuple[dict[str, Any], tuple[int, ...], int]:
    """The op, the output shape and the multiply-adds of a weighted layer."""
    if isinstance(module, nn.Linear):
        return (
            {"op": "linear", "in": module.in_features, "out": module.out_features},
            (module.out_features,),
            (module.in_features * module.out_features),
        )
    channels, height, width = shape
    k = module.kernel_size[0]
    if isinstance(module, nn.Conv2d):
        if module.stride != (1, 1) or module.kernel_size[0] != module.kernel_size[1] or module.groups != 1:
            raise ValueError(f"unsupported convolution {module}")
        out_h = height + 2 * module.padding[0] - k + 1
        out_w = width + 2 * module.padding[1] - k + 1
        op = {"op": "conv2d", "in": channels, "out": module.out_channels, "k": k, "pad": module.padding[0]}
        return op, (module.out_channels, out_h, out_w), module.out_channels * out_h * out_w * channels * k * k
    stride, pad, extra = module.stride[0], module.padding[0], module.output_padding[0]
    out_h = (height - 1) * stride - 2 * pad + k + extra
    out_w = (width - 1) * stride - 2 * pad + k + extra
    op = {"op": "conv_transpose2d", "in": channels, "out": module.out_channels, "k": k, "stride": stride,
          "pad": pad, "output_pad": extra}  # fmt: skip
    return op, (module.out_channels, out_h, out_w), channels * height * width * module.out_channels * k * k


def _simple(module: nn.Module, shape: tuple[int, ...]) -> dict[str, Any]:
    if isinstance(module, nn.ReLU):
        return {"op": "relu"}
    if isinstance(module, nn.LeakyReLU):
        return {"op": "leaky_relu", "slope": float(module.negative_slope)}
    if isinstance(module, nn.Tanh):
        return {"op": "tanh"}
    if isinstance(module, nn.Sigmoid):
        return {"op": "sigmoid"}
    if isinstance(module, nn.Unflatten):
        return {"op": "reshape", "shape": list(module.unflattened_size)}
    if isinstance(module, nn.Upsample) and module.mode == "nearest" and float(module.scale_factor).is_integer():
        return {"op": "upsample", "scale": int(module.scale_factor)}
    raise ValueError(f"the browser decoder has no op for {type(module).__name__} ({module})")


def pack(
    decoder: ExportedDecoder, extra: dict[str, Any] | None = None, arrays: dict[str, np.ndarray] | None = None
) -> bytes:
    """One binary file for the browser: MAGIC, a little-endian uint32 header length, the JSON
    header (ops, latent size, `extra`, and the offset, type and shape of each array), padding to
    4 bytes, then the decoder weights and `arrays` (float32, uint8 ...) back to back."""
    blobs = [("weights", decoder.weights.astype("<f4"))] + [(name, array) for name, array in (arrays or {}).items()]
    layout, position = {}, 0
    for name, array in blobs:
        position += -position % array.dtype.itemsize  # every array aligned to its element size
        layout[name] = {"offset": position, "dtype": array.dtype.str, "shape": list(array.shape)}
        position += array.nbytes
    header = {"ops": decoder.ops, "latent_dim": decoder.latent_dim, "multiply_adds": decoder.multiply_adds,
              "arrays": layout, **(extra or {})}  # fmt: skip
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(len(MAGIC) + 4 + len(text)) % 8)  # the data region starts 8-byte aligned
    body = bytearray(position)
    for name, array in blobs:
        start = layout[name]["offset"]
        body[start : start + array.nbytes] = np.ascontiguousarray(array).tobytes()
    return MAGIC + struct.pack("<I", len(text)) + text + bytes(body)


def run_ops(ops: list[dict[str, Any]], weights: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Reference decoder in NumPy (float64): codes (N, latent_dim) -> images (N, ...)."""
    x = np.asarray(codes, dtype=np.float64)
    for op in ops:
        name = op["op"]
        if name == "linear":
            w = weights[op["w"] : op["w"] + op["in"] * op["out"]].reshape(op["out"], op["in"])
            x = x @ w.T + weights[op["b"] : op["b"] + op["out"]]
        elif name in ("conv2d", "conv_transpose2d"):
            x = _run_convolution(op, weights, x)
        elif name == "reshape":
            x = x.reshape(len(x), *op["shape"])
        elif name == "upsample":
            x = x.repeat(op["scale"], axis=2).repeat(op["scale"], axis=3)
        elif name == "relu":
            x = np.maximum(x, 0)
        elif name == "leaky_relu":
            x = np.where(x > 0, x, op["slope"] * x)
        elif name == "tanh":
            x = np.tanh(x)
        elif name == "sigmoid":
            x = 1 / (1 + np.exp(-x))
        else:
            raise ValueError(f"unknown op {name!r}")
    return x


def _run_convolution(op: dict[str, Any], weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    k, c_in, c_out = op["k"], op["in"], op["out"]
    bias = torch.from_numpy(weights[op["b"] : op["b"] + c_out].astype(np.float64))
    shape = (c_out, c_in, k, k) if op["op"] == "conv2d" else (c_in, c_out, k, k)
    w = torch.from_numpy(weights[op["w"] : op["w"] + c_in * c_out * k * k].reshape(shape).astype(np.float64))
    if op["op"] == "conv2d":
        return torch.nn.functional.conv2d(torch.from_numpy(x), w, bias, padding=op["pad"]).numpy()
    return torch.nn.functional.conv_transpose2d(
        torch.from_numpy(x), w, bias, stride=op["stride"], padding=op["pad"], output_padding=op["output_pad"]
    ).numpy()
