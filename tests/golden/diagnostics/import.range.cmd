import import/range.xml --id demo
