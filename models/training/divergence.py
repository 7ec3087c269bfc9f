"""When a run has diverged, and what to tell the person who started it."""

from __future__ import annotations

import math

# A healthy run never climbs far above its first loss; one that does has diverged even if
# the numbers are still finite (e.g. saturated tanh units with a huge learning rate).
EXPLOSION_FACTOR = 1000.0


def diverged(loss: float, first_loss: float | None) -> bool:
    """Whether `loss` is NaN, infinite, or more than EXPLOSION_FACTOR times the run's first loss."""
    reference = abs(first_loss) if first_loss is not None and math.isfinite(first_loss) else 1.0
    return not math.isfinite(loss) or loss > EXPLOSION_FACTOR * max(reference, 1.0)


def divergence_message(epoch: int, step: int | None, lr: float) -> str:
    """What happened and what to try; what was saved is for the caller to say."""
    where = f"step {step} of epoch {epoch}" if step is not None else f"the evaluation after epoch {epoch}"
    rolled_back = f" The model was rolled back to the end of epoch {epoch - 1}." if epoch > 1 else ""
    return (
        f"Training diverged: the loss became NaN, infinite or exploded (over {EXPLOSION_FACTOR:g}x "
        f"its starting value) at {where}.{rolled_back} "
        f"Try a smaller learning rate than {lr:g} (1e-3 is a safe start)."
    )
