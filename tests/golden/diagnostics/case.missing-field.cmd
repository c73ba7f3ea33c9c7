explain case.missing-field/case.yaml
