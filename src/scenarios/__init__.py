"""scenarios: an agent-based policy simulator of intelligence sharing against ISIS-K."""

__version__ = "0.1.0"
