"""Text ⇄ AST: parse (Lark), lower, format, load files, print expressions."""
