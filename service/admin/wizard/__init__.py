"""The launch wizard of the admin view, one module per step."""
