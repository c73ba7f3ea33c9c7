"""yakkan.clauses."""
