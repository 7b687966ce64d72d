"""Load benchmark of issue 18 (a class of thirty on one server): ``python -m bench.load``.

See docs/load.md for what it measures, how the light client works and the figures.
"""
