import import/key.xml --id demo
