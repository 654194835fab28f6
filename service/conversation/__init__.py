"""The conversation step: dedupe, lock, resume the engine, apply the Sprint."""
