diff demo --from 2024-04-01 --to 2024-10-01 --no-semantic --witness-dir cases
