batch demo batch/garbage.parquet -o out.parquet
