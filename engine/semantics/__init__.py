"""AST → Rulebook → DecisionProgram: resolve, graph, types, check, compile, cache."""
