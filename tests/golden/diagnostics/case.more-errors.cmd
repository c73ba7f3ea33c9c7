explain case.more-errors/case.yaml
