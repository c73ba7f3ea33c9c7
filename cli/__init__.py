"""The `yakkan` command: parses arguments, calls the engine, hands results to renderers."""
