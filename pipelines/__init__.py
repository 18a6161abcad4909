"""Item pipelines: extraction, normalization and storage of what the crawler archived."""
