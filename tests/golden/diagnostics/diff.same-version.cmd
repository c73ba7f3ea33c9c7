diff demo --from 2024-04-01 --to 2024-05-01
