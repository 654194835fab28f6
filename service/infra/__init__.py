"""Plumbing: database, SQLite writer, bulk SQL, queue, crypto, migrations, runtime, health."""
