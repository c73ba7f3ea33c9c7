explain demo/ok.yaml --outcome aplication
