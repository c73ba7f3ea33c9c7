import import/duplicate-key.xml --id demo
