"""Package data: the DPAA osteometric reference and OsteoSort's articulation configuration."""
