"""What the benchmark scripts share: percentiles and a CKAN app built from the test
configuration (CKAN_INI, default test.ini; CKAN_SQLALCHEMY_URL points it at the scratch database)."""
from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def quantile(values: list[float], q: int) -> float:
    """The q-th percentile (the value itself for a single measure)."""
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def flask_app() -> Any:
    """CKAN's Flask application for the configuration the benchmarks run with."""
    from ckan.cli import CKANConfigLoader
    from ckan.config.middleware import make_app
    app = make_app(CKANConfigLoader(os.environ.get("CKAN_INI", str(ROOT / "test.ini"))).get_config())
    return app._wsgi_app if hasattr(app, "_wsgi_app") else app


def measure(client: Any, paths: list[str], repeat: int) -> list[float]:
    """Server time (ms) of each GET of `paths`, `repeat` passes after one warm-up pass
    (templates, caches); every answer must be 200."""
    for path in paths:
        assert client.get(path).status_code == 200, path
    times = []
    for _ in range(repeat):
        for path in paths:
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, path
    return times
