"""Files in and out: checkpoints and the folders they live in, datasets, pictures from users, and
the export of a decoder for the browser.

`store` (folders, safe names, the one atomic write), `checkpoint` (safetensors with metadata, checked
before any weight is used), `data` (MNIST as tensors, downloaded with timeouts), `preprocess`
(drawings and uploads to MNIST-style inputs), `images` (tensors as 8-bit pictures) and
`browser_export` (a decoder as simple ops for the browser). Imports families and geometry;
never Streamlit. (Not named `io`: a script run from `models/` would then shadow Python's own `io`.)
"""
