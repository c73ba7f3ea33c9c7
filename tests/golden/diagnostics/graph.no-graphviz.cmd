PATH= graph demo --format svg
