"""Training: how to train (`TrainConfig`), the loop, and a run that keeps its checkpoint.

`config` (the settings), `runtime` (device, precision, torch settings), `schedule` (learning rate,
KL warm-up), `optimiser` (fused Adam), `events` (what a run reports), `divergence`, `loop` (the
loop itself), `run` (the loop with a checkpoint written every epoch, as the CLI and the app's jobs
train), `presets` (named recipes) and `replay` (how a latent space forms, epoch by epoch).
Imports families, evaluation and files; never Streamlit.
"""
