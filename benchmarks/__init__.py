"""Scale data and timing scripts (see README.md here and `python -m benchmarks`)."""
