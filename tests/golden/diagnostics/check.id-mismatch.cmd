check check.id-mismatch/clauses/other/v1.yk
