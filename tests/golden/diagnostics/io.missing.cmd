batch demo batch/no-such-table.csv -o out.csv
