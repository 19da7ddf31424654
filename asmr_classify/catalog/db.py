"""Opening a catalogue (creating or migrating its tables, WAL mode) and its write transactions."""

from __future__ import annotations

import errno
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

from asmr_classify.catalog.schema import MIGRATE, SCHEMA, SCHEMA_VERSION
from asmr_classify.params import CATALOG
from audioprep.errors import UsageError

# what a failed write means for the catalogue's file, as the OSError that names it (run_cli prints "FILE: reason")
UNWRITABLE = {sqlite3.SQLITE_FULL: errno.ENOSPC, sqlite3.SQLITE_IOERR: errno.EIO}


def connect(db, create: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit, see `write`); `create` makes the
    tables, and refuses a catalogue of another schema version, else the catalogue must exist."""
    db = Path(db)
    if not create and not db.is_file():
        raise UsageError(f"{db}: no such catalogue")
    if create and not db.parent.is_dir():
        raise UsageError(f"{db}: no such folder {db.parent}")
    conn = None
    try:
        conn = sqlite3.connect(str(db), timeout=CATALOG.busy_seconds, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("SELECT count(*) FROM sqlite_master")  # a file that is no database fails here
        if create:
            _use_wal(conn)
            with write(conn):
                _create_or_migrate(conn, db)
        return conn
    except BaseException as err:
        if conn is not None:
            conn.close()
        if isinstance(err, sqlite3.DatabaseError):
            raise UsageError(f"{db}: not a usable catalogue ({err})") from err
        raise


def _create_or_migrate(conn: sqlite3.Connection, db: Path) -> None:
    tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'recordings'").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if tables and version in MIGRATE:
        for step in range(version, SCHEMA_VERSION):
            for statement in MIGRATE[step]:
                table = statement.split()[2]  # "ALTER TABLE <table> ..."
                if conn.execute("SELECT count(*) FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]:
                    conn.execute(statement)
    elif tables and version != SCHEMA_VERSION:
        raise UsageError(f"{db}: a catalogue of an {'older' if version < SCHEMA_VERSION else 'newer'} "
                         f"format (version {version}); catalogue into a new --db")
    for statement in SCHEMA:
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch to write-ahead logging, waiting up to `busy_seconds` for another connection that is switching.

    SQLite answers "database is locked" at once, without the busy timeout, while another connection
    switches a new file's journal mode: of 300 pairs of threads opening one new catalogue together,
    54 to 57 failed so (two `catalog` commands started at once).
    """
    deadline = time.monotonic() + CATALOG.busy_seconds
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@contextmanager
def write(conn: sqlite3.Connection):
    """One write transaction, taking the write lock at its start (BEGIN IMMEDIATE): a writer that
    reads first and upgrades later could fail with "database is locked" instead of waiting.

    A full disk or an I/O error rolls the transaction back and is raised as the OSError that names
    the catalogue's file; what earlier transactions committed stays.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException as err:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(err, sqlite3.OperationalError) and err.sqlite_errorcode & 0xFF in UNWRITABLE:
            file = conn.execute("PRAGMA database_list").fetchone()[2]
            raise OSError(UNWRITABLE[err.sqlite_errorcode & 0xFF], str(err), file) from err
        raise
