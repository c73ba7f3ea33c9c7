"""The foundations every pass shares: the typed IR, diagnostics, numerals, money, periods."""
