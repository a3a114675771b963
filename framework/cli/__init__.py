"""The ``datakits`` command: ``main.py`` builds the parser; one module per command group.

    main.py       targets, deploy, validate, reap, generate; the parser and ``main``
    load.py       datakits load
    dbt.py        datakits dbt sources|contracts|build
    pipeline.py   datakits pipeline
    dags.py       datakits dags check
    reflect.py    datakits reflect
    stack.py      datakits stack up|trigger|status|down

The top of the wings: it may import any of them; nothing imports it.
"""

from .main import main

__all__ = ["main"]
