"""Shared code of the Streamlit dashboard: warehouse access, formatting, filters, chart theme.

Pages in `pages/` stay thin: they pick data through `store`, format it with `format` and draw
it with the `theme`'s plotly template.
"""
