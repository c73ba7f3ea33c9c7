import import/law.xml --id demo --sidecar import/not-a-sidecar.json
