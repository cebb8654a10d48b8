"""Decision analytics on paired replications.

The value of each sharing link: Shapley values over coalitions of links
(:mod:`scenarios.decision.shapley`).
"""
