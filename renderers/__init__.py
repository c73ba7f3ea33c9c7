"""yakkan.renderers."""
