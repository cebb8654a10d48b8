"""The interactive dashboard (Mesa SolaraViz): watch a scenario unfold, move the levers."""
