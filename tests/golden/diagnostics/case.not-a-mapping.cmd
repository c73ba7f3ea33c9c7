explain case.not-a-mapping/case.yaml
