WITHOUT=pyspark batch demo batch/rows.csv -o out.csv --engine spark
