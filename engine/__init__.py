"""yakkan.engine."""
