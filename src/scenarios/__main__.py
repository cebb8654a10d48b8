"""``python -m scenarios``: the `scenarios` command (see :mod:`scenarios.launch`)."""

from scenarios.launch import main

main()
