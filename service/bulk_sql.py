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
import json
from itertools import islice

from sqlalchemy import Table
from sqlalchemy import text

# Rows per statement where a statement is needed (SQLite's executemany, lookups by value).
BATCH = 10_000


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
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row + tail)
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
    # (BEGIN IMMEDIATE, service/db.py), so no other writer can take these.
    top = connection.exec_driver_sql(f"SELECT max(id) FROM {table.name}").scalar() or 0
    return list(range(top + 1, top + 1 + count))


def matching(connection, table: Table, column: str, values: list, **equal) -> set:
    """Those of `values` found in `table.column` among rows whose columns equal `equal`; a statement per BATCH values."""
    where = "".join(f" AND {name} = :{name}" for name in equal)
    found = set()
    for start in range(0, len(values), BATCH):
        part = values[start : start + BATCH]
        if is_postgresql(connection):
            sql = f"SELECT {column} FROM {table.name} WHERE {column} = ANY(:values){where}"
            parameters = {"values": part, **equal}
        else:
            sql = f"SELECT {column} FROM {table.name} WHERE {column} IN (SELECT value FROM json_each(:values)){where}"
            parameters = {"values": json.dumps(part), **equal}
        found.update(connection.execute(text(sql), parameters).scalars())
    return found
