explain case.too-large/case.yaml
