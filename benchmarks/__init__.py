"""pytest files that run each family's cells and assert its claims' expected verdicts."""
