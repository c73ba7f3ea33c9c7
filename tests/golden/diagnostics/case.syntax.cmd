explain case.syntax/case.yaml
