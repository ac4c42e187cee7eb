"""Fault tests: the whole system under `make run`, with its processes killed on purpose."""
