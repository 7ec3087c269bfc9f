"""The replay exported as an animated GIF: frames, timing, colours, and bounded size."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from app.train.replay_gif import GifStyle, replay_gif
from app.widgets.palette import DIGIT_COLORS
from models.training.replay import Replay, ReplayFrame


def forming_replay(epochs: int, digits: tuple[int, ...] = tuple(range(10)), sample: int = 400) -> Replay:
    """Codes that start as one blob and separate into one cluster per digit, epoch by epoch."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.tensor([digits[i % len(digits)] for i in range(sample)])
    angle = labels.float() * (2 * torch.pi / 10)
    centres = torch.stack([torch.cos(angle), torch.sin(angle)], 1) * 3
    noise = torch.randn(sample, 2, generator=generator) * 0.3
    originals = torch.randint(0, 256, (len(digits), 1, 28, 28), generator=generator, dtype=torch.uint8)
    spread = [epoch / max(epochs, 1) for epoch in range(epochs + 1)]
    frames = tuple(ReplayFrame(e, centres * share + noise, originals.flip(-1)) for e, share in enumerate(spread))
    return Replay(torch.arange(sample), labels, originals, torch.tensor(digits), frames)


def frames_of(data: bytes) -> list[tuple[Image.Image, int]]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF"
    result = []
    for index in range(image.n_frames):
        image.seek(index)
        result.append((image.convert("RGB"), image.info["duration"]))
    return result


@pytest.mark.parametrize("epochs", [1, 2, 6, 20, 79, 120])
def test_every_epoch_is_a_frame_with_glides_between_and_the_total_bounded(epochs: int) -> None:
    style = GifStyle()
    frames = frames_of(replay_gif(forming_replay(epochs), style))
    durations = [duration for _, duration in frames]
    assert durations.count(style.epoch_ms) == epochs  # epochs 0 .. epochs-1 (the last is held longer)
    assert durations[-1] == style.last_ms
    tweens = (len(frames) - (epochs + 1)) / epochs
    assert tweens == int(tweens) and 0 <= tweens <= style.tweens
    assert len(frames) <= max(style.max_frames, epochs + 1)
    if epochs <= 10:
        assert tweens == style.tweens  # short runs glide
    assert len({image.size for image, _ in frames}) == 1


@pytest.mark.parametrize("digits", [tuple(range(10)), (0, 1, 4, 7), (3,)])
def test_the_last_frame_shows_each_trained_digit_in_its_colour(digits: tuple[int, ...]) -> None:
    style = GifStyle()
    last, _ = frames_of(replay_gif(forming_replay(5, digits), style))[-1]
    top = style.margin + style.title_size + style.margin // 2
    scatter = last.crop((style.margin + 1, top + 1, style.margin + style.plot, top + style.plot))  # not the digits
    pixels = np.asarray(scatter).reshape(-1, 3).astype(int)
    for digit in range(10):
        colour = np.array([int(DIGIT_COLORS[digit][i : i + 2], 16) for i in (1, 3, 5)])
        # The shared 64-colour palette may move a colour slightly: a close match counts.
        near = (np.abs(pixels - colour).sum(1) <= 24).sum()
        if digit in digits:
            assert near > 100, f"digit {digit} is missing"
        elif all(np.abs(np.array([int(DIGIT_COLORS[d][i : i + 2], 16) for i in (1, 3, 5)]) - colour).sum() > 60
                 for d in digits):  # fmt: skip
            assert near == 0, f"digit {digit} was not trained but is drawn"


def test_an_empty_replay_is_refused() -> None:
    replay = forming_replay(1)._replace(frames=())
    with pytest.raises(ValueError, match="no epochs"):
        replay_gif(replay)
