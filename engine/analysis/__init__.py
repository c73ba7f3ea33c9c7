"""Reasoning about programs: z3 encoding, amendment diff."""
