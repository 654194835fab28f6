"""Stand-ins for providers, served over loopback so adapters are tested over real HTTP."""
