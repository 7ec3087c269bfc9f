"""Images as 8-bit pictures: conversion and tiling, in the order a plot reads."""

from __future__ import annotations

import pytest
import torch

from models.files.images import GAP_LEVEL, tile, to_uint8


def test_to_uint8_rounds_and_clips() -> None:
    values = torch.tensor([-0.5, 0.0, 0.4 / 255, 0.6 / 255, 0.5, 1.0, 7.0])
    assert to_uint8(values).tolist() == [0, 0, 0, 1, 128, 255, 255]
    assert to_uint8(torch.rand(3, 1, 28, 28)).shape == (3, 1, 28, 28)


@pytest.mark.parametrize("gap", [0, 2])
def test_tile_places_image_i_at_row_i_div_columns(gap: int) -> None:
    rows, cols = 2, 3
    # Image i is filled with the value i + 1, so each 28 x 28 block tells where it came from.
    images = (torch.arange(rows * cols, dtype=torch.uint8) + 1).view(-1, 1, 1, 1).expand(-1, 1, 28, 28)
    picture = tile(images, columns=cols, gap=gap)
    assert picture.shape == (rows * 28 + (rows - 1) * gap, cols * 28 + (cols - 1) * gap)
    step = 28 + gap
    for index in range(rows * cols):
        row, col = divmod(index, cols)
        block = picture[row * step : row * step + 28, col * step : col * step + 28]
        assert torch.all(block == index + 1), f"image {index} is not at row {row}, column {col}"
    if gap:
        assert torch.all(picture[28 : 28 + gap] == GAP_LEVEL)  # grey between cells, none around them
    partial = tile(images[:4], columns=cols, gap=gap)  # fewer images leave black cells
    assert torch.all(partial[step:, step : step + 28] == 0) and torch.all(partial[step:, -28:] == 0)
    assert torch.all(partial[step:, :28] == 4)
    with pytest.raises(ValueError):
        tile(images[:, :, 0], columns=2)
