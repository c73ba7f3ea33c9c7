"""Running a program on a case: case model, builtins, the tracing interpreter."""
