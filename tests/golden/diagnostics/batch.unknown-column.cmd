batch demo batch/unknown-column.csv -o out.csv
