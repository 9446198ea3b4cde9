"""The engine: which files a run checks, their configuration, reading and parsing them, the per-module
index, the pre-filter and the cache."""
