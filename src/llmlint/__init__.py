"""llmlint: a static analyzer for Python code that calls large language models."""

__version__ = "0.1.0"

__all__ = ["__version__", "lint_paths"]


def lint_paths(paths, config=None, **options):
    """Check `paths` and return a Report (see llmlint.api.lint_paths)."""
    from llmlint.api import lint_paths as _lint_paths

    return _lint_paths(paths, config, **options)
