"""The pytest plugin, registered as ``datakits`` through the pytest11 entry point."""
