batch demo batch/seats-as-text.parquet -o out.parquet
