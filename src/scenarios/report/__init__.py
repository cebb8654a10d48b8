"""Plots and reports from stored runs (reads files, never runs a model)."""
