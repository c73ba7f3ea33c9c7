explain demo
