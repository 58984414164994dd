"""Patchbay SDK (under construction)."""
