"""Background jobs run by RQ workers: send, store, schedule."""
