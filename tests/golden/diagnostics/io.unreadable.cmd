check demo/v1.yk/inner.yk
