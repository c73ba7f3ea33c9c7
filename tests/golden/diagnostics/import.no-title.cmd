import import/no-title.xml --id demo
