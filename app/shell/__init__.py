"""The frame around every page: the app shell (navigation), the sidebar with the model picker and
the model card, what every page starts with (`page.require_model`, data notices), and shared style.

May import classroom, space, jobs and widgets.
"""
