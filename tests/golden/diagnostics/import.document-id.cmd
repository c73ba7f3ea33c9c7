import import/law.xml --id de/mo
