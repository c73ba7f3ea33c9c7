explain case.duplicate-key/case.yaml
