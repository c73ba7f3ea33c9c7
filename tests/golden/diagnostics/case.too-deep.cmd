explain case.too-deep/case.yaml
