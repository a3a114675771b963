"""What every engine package builds on; nothing here asks which engines there are.

protocols.py    EngineKind and Server: the interfaces an engine package implements
connect.py      an engine for a known EngineKind; a failed connection as one line
server.py       SqlServer: the admin engine, a run's lock kept alive (PostgreSQL, MySQL)
writer.py       the loader's writer base: lineage, table names, the hand-off to a driver thread
dbapi.py        rows as DB-API parameters for the executemany writers
canonical.py    the canonical text of a row and its record hash (the same on every engine)
identifiers.py  identifiers quoted by the dialect's rules in hand-built SQL
dberrors.py     what the driver said, as one line
urls.py         URL text without secrets; the bound on a connection's start
containers.py   Docker reachable? testcontainers' modules
"""
