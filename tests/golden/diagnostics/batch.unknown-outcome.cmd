batch demo batch/rows.csv -o out.csv --outcome aplication
