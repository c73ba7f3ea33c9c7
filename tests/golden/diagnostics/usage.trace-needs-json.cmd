explain demo/ok.yaml --trace
