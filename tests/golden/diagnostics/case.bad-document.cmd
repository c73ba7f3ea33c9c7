explain case.bad-document/case.yaml
