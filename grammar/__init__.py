"""yakkan.grammar."""
