"""Imported first by the fork server of a sweep's workers (``workers.start_fork_server``).

Ctrl-C in a terminal reaches every process of the foreground group. A fork server
ignores SIGINT once it has loaded its modules (multiprocessing's own rule), and the
workers it forks inherit that; this makes it so from the start of the loading, which
takes seconds, so that a Ctrl-C while a sweep starts prints no traceback from the fork
server. Ctrl-C is the driver's to handle: it stops the cluster and its workers.
"""

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
