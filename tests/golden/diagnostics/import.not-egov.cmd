import import/not-egov.xml --id demo
