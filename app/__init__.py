"""The Streamlit app: everything the pages share. It imports models/; pages/ import it.

Packages: `shell` (the frame of every page: sidebar, model picker, what a page starts with, style),
`classroom` (the view in the URL, copy link, presenter mode, the lesson), `plane` (the latent-plane
component: its Python side, publishing, and its browser code in `js/`; the drawing pad and the digit
input, which share that code), `space` (a model and its latent space for the pages: the catalogue,
the test set, encoding and decoding), `widgets` (pieces pages draw with: colours, digits, images,
noise), `train` (the Train page's form and panels) and `jobs` (the training queue: no Streamlit).
Beside them, `settings.py`: the server's limits and the teacher's password, which any of them may
read.
"""
