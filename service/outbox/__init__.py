"""The outbox: every message written as a row first, then queued by id after commit."""
