"""Errors that mean bad input (exit code 2), importable without heavy dependencies."""


class OutputError(OSError):
    """The output location cannot be used (exists, not writable...)."""


class CompareError(ValueError):
    """Runs that cannot be read or compared."""
