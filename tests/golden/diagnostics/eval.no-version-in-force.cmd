explain eval.no-version-in-force/case.yaml
