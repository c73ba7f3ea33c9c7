PATH=graph.graphviz-failed/bin graph demo --format svg
