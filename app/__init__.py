"""Streamlit glue shared by the pages: cached loaders, figures, sidebar, components."""
