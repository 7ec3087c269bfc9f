"""Teaching with the app: the view kept in the URL (one table of parameter names), a copy-link
button, presenter mode for a projector, and the guided lesson. May import widgets.
"""
