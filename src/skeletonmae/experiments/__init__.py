"""Sweeps over ordinary runs: plan a grid, skip finished cells, tabulate (docs/experiments.md)."""
