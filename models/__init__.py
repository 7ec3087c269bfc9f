"""The pure-PyTorch side of the latent space explorer: models, data, training, checkpoints.

Packages, lowest first (each imports only those before it): `families` (the models),
`geometry` (interpolation and the plot plane), `files` (checkpoints, datasets, uploads, the
browser export), `evaluation` (metrics, neighbours), `training` (the loop and its parts). Beside
them, the two command lines `train.py` and `evaluate.py` (`python -m models.train`, `python -m
models.evaluate`) and `text.py`, wording they share with the app. Nothing here imports Streamlit
or the app, so it serves the CLI, tests and notebooks as well as the app.
"""
