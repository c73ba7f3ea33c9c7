import import/law.xml --id demo --sidecar import/sidecar.json
