import import/dtd.xml --id demo
