explain case.unknown-field/case.yaml
