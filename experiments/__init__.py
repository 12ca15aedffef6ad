"""Batch experiments: sweeps, replicates, results store, reports."""
