"""Run pywb for ``reviewarc replay``: ``python -m archive.replay_server CONFIG DB HOST FD``.

A process of its own: pywb needs gevent's monkey patching, which must come first. It serves
on the listening socket it inherits as file descriptor ``FD`` (bound by the command that
started it, so that ``--port 0`` works and the port printed is the port served). While it
runs, the CDXJ index is rewritten from the database whenever new captures arrive, so pages
archived by a crawl that is still running become replayable.
"""

from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402
import socket  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

from archive.database import ArchiveDB  # noqa: E402

logger = logging.getLogger("archive.replay_server")


def _latest(db_path: Path) -> tuple[int, int]:
    archive = ArchiveDB.open_readonly(db_path)
    try:
        return archive.db.execute("select count(*), coalesce(max(id), 0) from captures").fetchone()
    finally:
        archive.close()


def refresh_index(config_path: Path, db_path: Path, interval: float = 5.0) -> None:
    from archive.datadir import DataDir
    from archive.replay import write_cdxj

    datadir = DataDir(db_path.parent)
    seen = _latest(db_path)
    while True:
        gevent.sleep(interval)
        try:
            now = _latest(db_path)
            if now != seen:
                archive = ArchiveDB.open_readonly(db_path)
                try:
                    write_cdxj(archive.db, datadir.warc_dir, config_path.parent / "index.cdxj")
                finally:
                    archive.close()
                seen = now
        except sqlite3.Error as e:  # a crawl holding a write lock: try again later
            logger.debug("index refresh skipped: %s", e)


def main(argv: list[str]) -> None:
    config, db_path, host, fd = Path(argv[0]), Path(argv[1]), argv[2], int(argv[3])
    logging.basicConfig(level=logging.WARNING)
    from pywb.apps.frontendapp import FrontEndApp

    listener = socket.socket(fileno=fd)  # gevent's socket, after patch_all
    app = FrontEndApp(config_file=str(config))
    gevent.spawn(refresh_index, config, db_path)
    server = WSGIServer(listener, app, log=None)
    print(f"Replaying at http://{host}:{listener.getsockname()[1]}/web/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
