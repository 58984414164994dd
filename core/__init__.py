"""The shared kernel every app builds on: the error family (errors.py) and HTTP shaping at the edge (http.py)."""
