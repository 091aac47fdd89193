"""The map's response size and query count on the bench city (issue 21).

    python -m bench.map_size --projects 1000
    python -m bench.map_size --projects 100000 [--backend postgresql]

For a supervisor and a district clerk: `GET /api/map/` for the whole city (one point per district above
`projects.map.MAP_POINT_LIMIT`), zoomed in on the centre and on one district, and the `/map/` page. Target:
every response under 500 KB, and the same query count at every size. Writes `results/map-<backend>-<n>.md`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
LIMIT_BYTES = 500 * 1024
VIEWS = [
    ("城市全图", "/api/map/?year={year}"),
    ("放大：市中心", "/api/map/?year={year}&bbox=125.25,43.83,125.40,43.93"),
    ("放大：南关区南部", "/api/map/?year={year}&bbox=125.38,43.60,125.50,43.70"),
    ("地图页", "/map/?year={year}"),
]


def measure(client, url: str) -> tuple[int, int, float, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up
    times = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    shape = ""
    if url.startswith("/api/"):
        body = response.json()
        shape = f"{'按属地汇总' if body['aggregated'] else '逐个项目'} {len(body['features'])} 点 / {body['total']} 个项目"
    return len(response.content), len(queries), statistics.median(times), shape


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--year", type=int, default=2025)
    args = parser.parse_args(argv)
    from . import db
    from .generate import Sizes, ensure_users

    db.prepare(Sizes.default(args.projects), backend=args.backend)
    from django.test import Client

    clerk, supervisor = ensure_users()
    lines = [f"# 地图 /api/map/ at {args.projects:,} projects ({args.backend}, year {args.year})", "",
             "| 用户 | 视图 | 响应大小 | 查询数 | 耗时（中位数） | 内容 |", "|---|---|---:|---:|---:|---|"]
    ok = True
    for role, user in [("督查", supervisor), ("区县填报员", clerk)]:
        client = Client()
        client.force_login(user)
        for name, url in VIEWS:
            size, queries, ms, shape = measure(client, url.format(year=args.year))
            ok &= size < LIMIT_BYTES
            lines.append(f"| {role} | {name} | {size / 1024:,.1f} KB | {queries} | {ms:,.0f} ms | {shape} |")
            print(lines[-1], flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"map-{args.backend}-{args.projects}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
