"""Running replications, storing them, and the statistics on stored runs.

Knows nothing of ISIS-K: it runs any model callable ``(config, seed) -> (columns, summary)``.
"""
