"""Statements for 100,000 rows at a time, below the ORM: COPY on PostgreSQL, the driver's executemany on SQLite.

An upload or a launch writes every row of a campaign. Through SQLAlchemy's
executemany each row pays for its parameters being processed one by one
(~20 us, more than the database's own work on SQLite), and on PostgreSQL an
INSERT per row costs the server about half again as much as COPY. Here
values that are the same for every row (a campaign id, a status, the time)
go through their column's bind processor once, per-row values are plain
ints and strings, and a COPY streams rows while they are still being made:
the server inserts on the other core while this one encrypts.
"""
import gc
import json
from contextlib import contextmanager
from itertools import islice

from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy import text

# Rows per statement where a statement is needed (SQLite's executemany, lookups by value).
BATCH = 10_000


@contextmanager
def paused_gc():
    """No cyclic garbage collection inside: 100,000 rows of tuples and dicts made it
    walk every live object again and again (~15% of an upload's CPU) to find no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# SQLite's page cache for a bulk transaction (its default is 2 MiB). 100,000
# rows put keys at random places in the address and code hash indexes; with
# the default cache nearly every one is a page read, and dirty pages spill to
# the WAL again and again (an upload read and wrote ~800 MB for a 60 MB table).
BULK_CACHE_KIB = 16 * 1024


@contextmanager
def roomy_cache(connection):
    """A larger SQLite page cache while bulk rows are written, back to what it was after (no-op on PostgreSQL)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        # Pages still dirty stay until the commit writes them; the rest are given back now.
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def is_postgresql(connection) -> bool:
    return connection.dialect.name == "postgresql"


def _processor(table: Table, name: str, dialect):
    column_type = table.c[name].type
    return column_type.dialect_impl(dialect).bind_processor(dialect)


def processed(connection, table: Table, values: dict) -> dict:
    """`values` as the driver takes them: each through its column's bind processor, as SQLAlchemy would."""
    dialect = connection.dialect
    result = {}
    for name, value in values.items():
        processor = _processor(table, name, dialect)
        result[name] = processor(value) if processor is not None and value is not None else value
    return result


def _check_plain(connection, table: Table, names) -> None:
    """Per-row values skip the bind processors: only columns that have none may take them."""
    dialect = connection.dialect
    for name in names:
        if _processor(table, name, dialect) is not None:
            raise TypeError(f"{table.name}.{name} needs its bind processor: give it as a constant")


def insert_rows(connection, table: Table, names: list[str], rows, constants: dict | None = None) -> None:
    """Insert `rows` (tuples of `names`' values, an iterable) with `constants` set in every row.

    Per-row columns must be plain (integers, strings, None); `constants` may be any type.
    """
    constants = processed(connection, table, constants or {})
    _check_plain(connection, table, names)
    columns = [*names, *constants]
    tail = tuple(constants.values())
    if is_postgresql(connection):
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        dbapi_error = connection.dialect.loaded_dbapi.Error
        try:
            with connection.connection.driver_connection.cursor().copy(statement) as copy:
                for row in rows:
                    copy.write_row(row + tail)
        except dbapi_error as error:
            # As a statement's error would be: IntegrityError for a duplicate, and so on.
            raise DBAPIError.instance(statement, None, error, dbapi_error, dialect=connection.dialect) from error
        return
    statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    rows = iter(rows)
    while batch := [row + tail for row in islice(rows, BATCH)]:
        connection.exec_driver_sql(statement, batch)


def new_ids(connection, table: Table, count: int) -> list[int]:
    """`count` fresh primary keys for rows of `table` this transaction will insert, ascending."""
    if count <= 0:
        return []
    if is_postgresql(connection):
        # Drawn from the column's own sequence, as a default would.
        drawn = connection.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
            {"table": table.name, "count": count},
        ).scalars().all()
        return sorted(drawn)
    # SQLite gives a new row max(id) + 1; this transaction holds the write lock
    # (BEGIN IMMEDIATE, service/infra/db.py), so no other writer can take these.
    top = connection.exec_driver_sql(f"SELECT max(id) FROM {table.name}").scalar() or 0
    return list(range(top + 1, top + 1 + count))


def matching(connection, table: Table, column: str, values: list[str], **equal) -> set:
    """Those of `values` (hex digests) found in `table.column` among rows whose columns equal `equal`.

    One statement per BATCH values, the values sent as one text: a list of
    strings costs psycopg ~5 us each to send as an array, a joined text next to nothing.
    """
    where = "".join(f" AND {name} = :{name}" for name in equal)
    if is_postgresql(connection):
        sql = text(f"SELECT {column} FROM {table.name} WHERE {column} = ANY(string_to_array(:values, ',')){where}")
    else:
        sql = text(f"SELECT {column} FROM {table.name} WHERE {column} IN (SELECT value FROM json_each(:values)){where}")
    found = set()
    for start in range(0, len(values), BATCH):
        part = values[start : start + BATCH]
        joined = ",".join(part) if is_postgresql(connection) else json.dumps(part)
        found.update(connection.execute(sql, {"values": joined, **equal}).scalars())
    return found


# Many databases cap the parameters of one statement; 500 stays well under.
CHUNK = 500


def chunks(items: list, size: int = CHUNK):
    """`items` in slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
