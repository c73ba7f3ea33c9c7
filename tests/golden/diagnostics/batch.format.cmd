batch demo batch/rows.txt -o out.csv
