check demo/v1.yk --no-static --witness-dir cases
