"""A model and its latent space, as the pages use them: the catalogue of checkpoints and the cached
models, the test set (downloaded in the background), the encoded test codes and their plane, the
reconstruction errors, and the threads model calls run on. Imports models/ and Streamlit's caches.
"""
