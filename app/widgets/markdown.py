"""Showing user-written text (model titles, file names) inside Streamlit markdown as plain text.

Streamlit renders markdown in `st.markdown`, `st.caption`, `st.info` and friends, with its own
extensions (`:red[...]`, `:material/icon:`, `$math$`). A title such as `![x](https://host/x.png)`
would make every visitor's browser fetch a remote image. CommonMark lets a backslash escape any
ASCII punctuation, which turns each of these constructs back into the characters typed.
"""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")


def escape(text: object) -> str:
    """`text` as markdown that displays exactly those characters, on one line."""
    flat = " ".join(str(text).split())  # no line breaks: a title cannot start a heading or a list
    return _PUNCTUATION.sub(r"\\\1", flat)
