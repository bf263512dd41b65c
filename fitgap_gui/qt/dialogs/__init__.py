"""Dialogs opened from the window: open data (with its preview) and plan a sweep."""
