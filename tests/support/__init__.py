"""Helpers shared by test files (pytest puts tests/ on sys.path: pyproject's pythonpath)."""
