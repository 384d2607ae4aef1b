"""Operations: benchmarks, deployment files, dashboards."""
