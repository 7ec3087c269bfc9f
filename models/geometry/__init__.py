"""Latent geometry, independent of any model: interpolation between codes, and the 2-D plane and
plot ranges codes are drawn on. Imports torch only.
"""
