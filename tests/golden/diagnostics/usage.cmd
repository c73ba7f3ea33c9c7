batch demo
