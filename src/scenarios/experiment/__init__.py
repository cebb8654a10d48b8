"""Running replications, storing them, and the statistics on stored runs.

Knows nothing of the model's mechanisms: it calls ``scenarios.model.run_replication``
and deals with seeds, processes, files and statistics.
"""
