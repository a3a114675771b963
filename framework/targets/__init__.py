"""Where: named targets, URLs, the one resolver, runs and reaping, provisioning, sharing a run.

named.py          TargetConfig and the named targets (sqlite_memory ... mysql_container)
provisioning/     how a target's server comes to exist: local, embedded, process, container
runs.py           a run's claim on a server, its databases (Database, Run), reaping dead runs
process.py        this process's databases on named targets (the plain API's)
resolve.py        the one resolver of a target argument; open_target, reap
sharing.py        one run shared by a pytest-xdist controller and its workers (RunHost, RunGuest)
"""


def __getattr__(name: str) -> object:
    """0.1's ``framework.targets`` module is named.py now: its names still resolve here, with a DeprecationWarning."""
    from ..moved import moved_name

    return moved_name(__name__, name)
