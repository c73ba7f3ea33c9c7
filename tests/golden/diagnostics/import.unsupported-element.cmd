import import/unsupported-element.xml --id demo
