explain case.bad-value/case.yaml
