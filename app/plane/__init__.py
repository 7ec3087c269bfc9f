"""The latent plane, shared by Explore, Interpolate, Draw, Sample and Compare, and the drawing pad,
whose browser code is published with the plane's.

`component` (the Streamlit component and the clicks it reports), `modes` (one dataclass per
mode: select, walk, encode, samples), `endpoints` (a walk's ends), `published` (the model's
decoder, test images and errors as files the browser fetches once), `publish` (content-hashed
static files, the browser code's folder among them), `preload` (plotly.js fetched while the
server starts; no torch), `pad` (the drawing pad: mouse, touch and pen, and the drawing it sends),
`digit_input` (the pad or an uploaded picture as the model's input) and `js/`, the browser side
with its CSS (`model/` the decoder, `view/` what is drawn, `modes/` one module per mode, `pad/` the
drawing pad). May import classroom, space and widgets.
"""
