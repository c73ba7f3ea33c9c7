explain demo/ok.yaml -o demo/v1.yk/out.txt
