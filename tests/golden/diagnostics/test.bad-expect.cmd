test test.bad-expect/case.yaml
