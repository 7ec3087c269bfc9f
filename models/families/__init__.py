"""Model families: what an autoencoder is and how each kind is built.

The config dataclasses (`config`), the interface every model shares with its losses (`base`,
`losses`), the dense and convolutional families, and the registry that builds a model from a
family name and its config. Imports torch and nothing else of the project.
"""
