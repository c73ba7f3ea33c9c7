import import/malformed.xml --id demo
