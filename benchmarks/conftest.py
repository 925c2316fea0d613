"""Keep the saved JSON to the statistics: pytest-benchmark also writes every
round's raw timing, which made one `make microbench` file ~90 MB."""


def pytest_benchmark_update_json(config, benchmarks, output_json) -> None:
    for bench in output_json.get("benchmarks", []):
        bench.get("stats", {}).pop("data", None)
