"""Pure-PyTorch side of the latent space explorer: models, data, training, checkpoints.

Nothing in this package imports Streamlit, so it can be used from the CLI, tests and
notebooks as well as from the app.
"""
