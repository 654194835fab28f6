"""Accounts and access: organisation, units, users' scopes, audit, tokens, passwords, sessions."""
