"""Run every measure of issue 9 against its baseline and write `bench/results/`; exit 1 when a target is missed.

    python -m bench.run                          # 100,000 projects: SQLite, and PostgreSQL if DATABASE_URL is set
    python -m bench.run --projects 1000          # the small size CI runs
    python -m bench.run --backend postgresql     # one backend only

Each measure runs the real path (Django test client, logged in as a district clerk and as a supervisor) and
its baseline alternately in one process: one warm-up pair, then `--pairs` pairs (at least 7); it reports
medians, their ratio, the real path's query count, and for the export the peak memory (tracemalloc).
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_PROJECTS = 100_000


@dataclass
class Result:
    measure: str
    role: str
    real_ms: float | None
    base_ms: float | None
    queries: str
    target: str
    ok: bool | None  # None: reported for information, no target
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.real_ms is None or not self.base_ms:
            return None
        return self.real_ms / self.base_ms


@dataclass
class Bench:
    pairs: int
    results: list[Result] = field(default_factory=list)

    def timed(self, fn) -> float:
        gc.collect()
        started = time.perf_counter()
        fn()
        return (time.perf_counter() - started) * 1000

    def compare(self, real, base, *, pairs: int | None = None) -> tuple[float, float]:
        """Medians in ms of `real` and `base` run alternately, after one warm-up pair."""
        real(), base()
        real_t, base_t = [], []
        for _ in range(pairs or self.pairs):
            real_t.append(self.timed(real))
            base_t.append(self.timed(base))
        return statistics.median(real_t), statistics.median(base_t)

    def add(self, result: Result) -> None:
        self.results.append(result)
        ratio = f"{result.ratio:.2f}×" if result.ratio is not None else "—"
        print(f"  {VERDICT[result.ok]} {result.measure} [{result.role}] real {_ms(result.real_ms)}"
              f" base {_ms(result.base_ms)} {ratio} q={result.queries} {result.note}", flush=True)


VERDICT = {True: "ok  ", False: "MISS", None: "info"}


def _ms(value: float | None) -> str:
    return "—" if value is None else (f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms")


def queries_of(fn) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()  # warm: the first request of a while also refreshes the session (config.middleware)
    with CaptureQueriesContext(connection) as ctx:
        fn()
    # Transaction control is not a query; SQLite logs its BEGIN/COMMIT, PostgreSQL's driver does not.
    return sum(1 for q in ctx.captured_queries if not q["sql"].lstrip().upper().startswith(TRANSACTION_CONTROL))


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def peak_of(fn) -> int:
    """Peak traced memory in bytes while `fn` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def get(client, url: str):
    def run():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return run


def rolled_back(fn):
    """Run `fn` in a transaction that is rolled back, so that every run starts from the same rows."""
    from django.db import transaction

    def run():
        with transaction.atomic():
            value = fn()
            transaction.set_rollback(True)
        return value

    return run


# --- the measures ------------------------------------------------------------------------------------------


def measure_pages(bench: Bench, ctx) -> None:
    from . import baselines

    year = ctx.year
    for role, client, district in ctx.roles:
        real, base = get(client, f"/?year={year}"), lambda: baselines.overview(year, district)
        r, b = bench.compare(real, base)
        q = queries_of(real)
        bench.add(Result("overview page `/`", role, r, b, str(q), "≤ 1.5× baseline, ≤ 15 queries",
                         r <= 1.5 * b and q <= 15))
    for role, client, district in ctx.roles:
        real, base = get(client, f"/projects/?year={year}"), lambda: baselines.project_status(year, district)
        r, b = bench.compare(real, base)
        bench.add(Result("projects status page", role, r, b, str(queries_of(real)), "≤ 1.5× baseline",
                         r <= 1.5 * b))
    for role, client, district in ctx.roles:
        code = ctx.detail_project.code
        real = get(client, f"/projects/{code}/?year={year}")
        base = lambda: baselines.project_detail(code, year, district)  # noqa: E731
        floor = get(client, f"/bench-floor/projects/{code}/?year={year}")
        r, b = bench.compare(real, base)
        r_floor, f = bench.compare(real, floor)
        bench.add(Result("project detail page", role, r, b, str(queries_of(real)), "≤ 2× baseline", r <= 2 * b,
                         note=f"its floor (the same request with only these queries, bench/urls.py) takes "
                              f"{_ms(f)}, {f / b:.1f}× the baseline"))
        bench.add(Result("project detail page, against its floor", role, r_floor, f, str(queries_of(floor)),
                         "information: what the ORM and the template add", None))


def measure_admin(bench: Bench, ctx) -> None:
    from django.contrib import admin

    from projects.models import Project

    from .urls import baseline_site

    real_admin, base_admin = admin.site._registry[Project], baseline_site._registry[Project]
    saved = real_admin.list_per_page, base_admin.list_per_page
    try:
        for role, client, _district in ctx.roles:
            counts = {}
            for rows in (20, 100):
                real_admin.list_per_page = base_admin.list_per_page = rows
                counts[rows] = queries_of(get(client, "/admin/projects/project/"))
            real, base = get(client, "/admin/projects/project/"), get(client, "/bench-admin/projects/project/")
            r, b = bench.compare(real, base)
            base_q = queries_of(base)
            bench.add(Result("admin project list, 100 rows", role, r, b, f"{counts[20]} / {counts[100]}",
                             "< baseline; same queries at 20 / 100 rows", r < b and counts[20] == counts[100],
                             note=f"baseline {base_q} queries"))
    finally:
        real_admin.list_per_page, base_admin.list_per_page = saved


def measure_api(bench: Bench, ctx) -> None:
    from . import baselines

    for role, client, _district in ctx.roles:
        user = ctx.users[role]
        counts = {rows: queries_of(get(client, f"/api/projects/?page_size={rows}")) for rows in (20, 100)}
        real = get(client, "/api/projects/?page_size=100")
        base = lambda: baselines.api_projects(user, 100)  # noqa: E731
        r, b = bench.compare(real, base)
        bench.add(Result("API project list, 100 rows", role, r, b, f"{counts[20]} / {counts[100]}",
                         "≤ 4× baseline, constant queries", r <= 4 * b and counts[20] == counts[100]))


def measure_import(bench: Bench, ctx) -> None:
    from config.excel.resources import import_file
    from projects.models import Project
    from projects.resources import ProjectResource

    from . import baselines

    data = ctx.import_file(bad_last_row=False)
    before = Project.objects.count()
    for role, _client, _district in ctx.roles:
        user = ctx.users[role]

        def real():
            report = import_file(ProjectResource, data, user=user)
            assert report.saved and report.new == ctx.import_rows, (report.problems[:3], report.new)

        real_r, base_r = rolled_back(real), rolled_back(lambda: baselines.bulk_import(data))
        r, b = bench.compare(real_r, base_r, pairs=ctx.import_pairs)
        bench.add(Result(f"Excel import, {ctx.import_rows:,} projects", role, r, b, "—",
                         "≤ 4× baseline, all-or-nothing kept", r <= 4 * b))
    bad = ctx.import_file(bad_last_row=True)
    report = import_file(ProjectResource, bad, user=ctx.users["supervisor"])
    unchanged = Project.objects.count() == before and not report.saved and len(report.problems) == 1
    bench.add(Result(f"Excel import, bad last row of {ctx.import_rows:,}", "supervisor", None, None, "—",
                     "nothing saved", unchanged, note=f"problems: {len(report.problems)}, "
                     f"projects {before} → {Project.objects.count()}"))


def measure_initial_load(bench: Bench, ctx) -> None:
    """期初导入 (issue 15): the same file loaded with its stages and dates replayed through the services,
    against a plain import of that file (which ignores those columns). Target: at most 4×."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from config.excel.resources import import_file
    from projects.models import Project
    from projects.resources import InitialProjectResource, ProjectResource

    data = ctx.initial_file()
    user = ctx.users["supervisor"]
    replayed = {}

    def initial():
        report = import_file(InitialProjectResource, data, user=user)
        assert report.saved and report.new == ctx.import_rows, (report.problems[:3], report.new)
        replayed["started"] = Project.objects.filter(code__startswith="2512-", actual_start__isnull=False).count()

    def plain():
        report = import_file(ProjectResource, data, user=user)
        assert report.saved and report.new == ctx.import_rows, (report.problems[:3], report.new)

    pairs = max(1, min(3, ctx.import_pairs))
    r, b = bench.compare(rolled_back(initial), rolled_back(plain), pairs=pairs)
    with CaptureQueriesContext(connection) as queries:
        rolled_back(initial)()
    bench.add(Result(f"Initial load (期初导入), {ctx.import_rows:,} projects", "supervisor", r, b,
                     f"{len(queries.captured_queries):,}", "≤ 4× a plain import of the same file", r <= 4 * b,
                     note=f"{replayed.get('started', 0):,} of {ctx.import_rows:,} rows started, replayed a step "
                          "at a time for the whole file (前期, 开工, 停缓建/竣工/取消, 入库; services.projects_replay)"))


def measure_export(bench: Bench, ctx) -> None:
    from config.excel.tables import export_file
    from projects.models import Project
    from projects.resources import ProjectResource

    from . import baselines

    for role, _client, district in ctx.roles:
        user = ctx.users[role]
        n = Project.objects.for_user(user).count()

        def real(limit=None):
            # As the admin's export does: into a temporary file, which the response then streams.
            qs = Project.objects.filter(pk__in=baselines._first_ids(limit)) if limit else None
            with tempfile.NamedTemporaryFile(suffix=".xlsx") as target:
                export_file(ProjectResource, target.name, user=user, queryset=qs)

        def base(limit=None):
            with tempfile.NamedTemporaryFile(suffix=".xlsx") as target:
                baselines.export(user, target.name, limit=limit)

        r, b = bench.compare(real, base, pairs=ctx.export_pairs)
        note = ""
        ok = r <= 1.5 * b
        if role == "supervisor":
            small = max(1, ctx.sizes.projects // 10)
            peak_full, peak_small = peak_of(real), peak_of(lambda: real(small))
            base_full = peak_of(base)
            ok = ok and peak_full <= 1.5 * peak_small
            note = (f"peak {peak_full / 2**20:.1f} MiB at {n:,} vs {peak_small / 2**20:.1f} MiB at {small:,} "
                    f"({peak_full / peak_small:.2f}×); baseline peak {base_full / 2**20:.1f} MiB")
        bench.add(Result(f"Excel export, {n:,} projects", role, r, b, str(queries_of(real)),
                         "≤ 1.5× baseline; peak(all) ≤ 1.5× peak(10 %)", ok, note=note))


def measure_sync(bench: Bench, ctx) -> None:
    from django.core.management import call_command

    from ledgers.services import BATCH

    out = io.StringIO()

    def run():
        call_command("sync_ledgers", "--quiet-items", stdout=out)

    real = rolled_back(run)
    times = [bench.timed(real) for _ in range(3)]
    seconds = statistics.median(times) / 1000
    q = queries_of(real)
    report = out.getvalue().splitlines()[-4:]
    rows_written = sum(int(s) for line in report for s in line.replace("，", " ").split() if s.isdigit())
    batches = max(1, -(-rows_written // BATCH))
    bench.add(Result(f"`sync_ledgers` on {ctx.sizes.projects:,} projects", "—", seconds * 1000, None,
                     f"{q} ({q / batches:.1f}/batch of {BATCH})", "≤ 10 s, constant queries per batch",
                     seconds <= 10, note=f"{rows_written} rows opened/closed per run"))


# --- setup and output ------------------------------------------------------------------------------------


class Context:
    def __init__(self, sizes, pairs: int):
        from django.test import Client

        from ledgers.models import LedgerEntry
        from projects.models import Project

        from .generate import ensure_users

        clerk, supervisor = ensure_users()
        self.sizes = sizes
        self.year = sizes.last_year
        self.users = {"district clerk": clerk, "supervisor": supervisor}
        district = clerk.profile.district_id
        self.roles = []
        for role, user, scope in [("district clerk", clerk, district), ("supervisor", supervisor, None)]:
            client = Client()
            client.force_login(user)
            self.roles.append((role, client, scope))
        with_entry = LedgerEntry.objects.values("project_id")
        self.detail_project = (
            Project.objects.filter(district_id=district, bond_projects__isnull=False, pk__in=with_entry,
                                   monthly_reports__year=self.year).order_by("pk").first()
            or Project.objects.filter(district_id=district).order_by("pk").first()
        )
        self.import_rows = min(10_000, sizes.projects)
        self.import_pairs = pairs
        self.export_pairs = pairs
        self._import_cache: dict[bool, bytes] = {}

    def initial_file(self) -> bytes:
        if "initial" not in self._import_cache:
            self._import_cache["initial"] = _initial_file(self)
        return self._import_cache["initial"]

    def import_file(self, *, bad_last_row: bool) -> bytes:
        """The product's own export of existing projects of the clerk's district, with new codes."""
        if bad_last_row in self._import_cache:
            return self._import_cache[bad_last_row]
        import openpyxl

        from config.excel.tables import export_file
        from projects.models import Project
        from projects.resources import ProjectResource

        clerk = self.users["district clerk"]
        ids = Project.objects.for_user(clerk).order_by("pk").values("pk")[: self.import_rows]
        buffer = io.BytesIO()
        export_file(ProjectResource, buffer, user=clerk, queryset=Project.objects.filter(pk__in=ids))
        source = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)
        sheet = source.worksheets[0]
        book = openpyxl.Workbook(write_only=True)
        out = book.create_sheet(sheet.title)
        rows = list(sheet.iter_rows(values_only=True))
        header = rows[0]
        code_at, district_at = header.index("统一项目代码"), header.index("属地")
        out.append(header)
        # The clerk's district may hold fewer projects than the measure asks for: repeat them under new codes.
        body = [rows[1 + i % (len(rows) - 1)] for i in range(self.import_rows)]
        for n, row in enumerate(body, start=1):
            row = list(row)
            row[code_at] = f"2512-220173-01-02-{n:06d}"
            if bad_last_row and n == len(body):
                row[district_at] = "不存在的属地"
            out.append(row)
        self.import_rows = len(body)
        result = io.BytesIO()
        book.save(result)
        self._import_cache[bad_last_row] = result.getvalue()
        return self._import_cache[bad_last_row]


def _initial_file(ctx) -> bytes:
    """The import's file with the two columns only an initial load reads (停缓建原因, 取消原因) filled in."""
    import openpyxl

    source = openpyxl.load_workbook(io.BytesIO(ctx.import_file(bad_last_row=False)), read_only=True)
    rows = list(source.worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    stage_at = header.index("阶段")
    book = openpyxl.Workbook(write_only=True)
    out = book.create_sheet(source.worksheets[0].title)
    out.append([*header, "停缓建原因", "取消原因"])
    for row in rows[1:]:
        out.append([*row, "资金未到位" if row[stage_at] == "停缓建" else None,
                    "企业撤资" if row[stage_at] == "取消" else None])
    result = io.BytesIO()
    book.save(result)
    return result.getvalue()


MEASURES = {
    "pages": measure_pages,
    "admin": measure_admin,
    "api": measure_api,
    "import": measure_import,
    "initial": measure_initial_load,
    "export": measure_export,
    "sync": measure_sync,
}


def markdown(results: list[Result], *, backend: str, sizes, timings: dict, pairs: int, elapsed: float) -> str:
    from django.db import connection

    version = connection.cursor().connection.__class__.__module__
    lines = [
        f"# Benchmark: {sizes.projects:,} projects on {backend}",
        "",
        f"`python -m bench.run --projects {sizes.projects} --backend {backend}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{pairs} alternating pairs after one warm-up pair, medians. Data years {sizes.first_year}–{sizes.last_year}, "
        f"figures for {sizes.last_year}. Generator {timings.get('generate_s', 0):.0f} s"
        f"{' (reused)' if not timings.get('generate_s') else ''}, run {elapsed:.0f} s. Driver `{version}`.",
        "",
        "| measure | role | real (median) | baseline (median) | ratio | queries | target | result |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for r in results:
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else "—"
        verdict = {True: "pass", False: "**MISS**", None: "—"}[r.ok]
        lines.append(f"| {r.measure} | {r.role} | {_ms(r.real_ms)} | {_ms(r.base_ms)} | {ratio} | {r.queries} | "
                     f"{r.target} | {verdict} |")
    notes = [f"- {r.measure} [{r.role}]: {r.note}" for r in results if r.note]
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines) + "\n"


def settle() -> None:
    """Clean up after the measure before: each rolled-back import leaves 10,000 dead rows, which PostgreSQL's
    autovacuum would clear in its own time; a page measured before it runs would read them all."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def run_backend(args) -> int:
    from .db import prepare
    from .generate import Sizes

    sizes = Sizes.default(args.projects)
    print(f"== {args.backend}: {sizes.projects:,} projects ==", flush=True)
    timings = prepare(sizes, backend=args.backend, force=args.regenerate)
    from django.db import connection

    from projects.models import MonthlyReport, Project

    print(f"  {Project.objects.count():,} projects, {MonthlyReport.objects.count():,} monthly reports", flush=True)
    started = time.monotonic()
    bench = Bench(pairs=args.pairs)
    ctx = Context(sizes, args.pairs)
    for name in args.only or MEASURES:
        settle()
        MEASURES[name](bench, ctx)
    elapsed = time.monotonic() - started
    text = markdown(bench.results, backend=connection.vendor, sizes=sizes, timings=timings, pairs=args.pairs,
                    elapsed=elapsed)
    RESULTS.mkdir(exist_ok=True)
    name = f"latest-{args.backend}.md" if sizes.projects == DEFAULT_PROJECTS else f"{args.backend}-{sizes.projects}.md"
    if args.only:
        name = name.replace(".md", "-partial.md")
    (RESULTS / name).write_text(text)
    print(f"wrote {RESULTS / name}")
    missed = [r for r in bench.results if r.ok is False]
    for r in missed:
        print(f"target missed: {r.measure} [{r.role}] — {r.target}", file=sys.stderr)
    # The targets are set for the default size; smaller runs (CI) only prove that the harness works,
    # unless --strict.
    enforce = args.strict or sizes.projects >= DEFAULT_PROJECTS
    return 1 if missed and enforce else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=DEFAULT_PROJECTS)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "auto"], default="auto",
                        help="auto: SQLite, then PostgreSQL when DATABASE_URL is set")
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--only", nargs="*", choices=list(MEASURES), help="run only these measures")
    parser.add_argument("--regenerate", action="store_true", help="regenerate the bench database")
    parser.add_argument("--strict", action="store_true",
                        help="fail on a missed target below the default size too (targets are set for 100,000)")
    parser.add_argument("--smoke", action="store_true",
                        help="CI: one pair per measure below the default size, to prove the harness runs; "
                             "its medians mean nothing")
    args = parser.parse_args(argv)
    if args.smoke:
        if args.projects >= DEFAULT_PROJECTS or args.strict:
            parser.error("--smoke is for small sizes without --strict: it measures nothing")
        args.pairs = 1
    elif args.pairs < 7:
        parser.error("the issue asks for at least 7 pairs")
    if args.backend != "auto":
        return run_backend(args)
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("DATABASE_URL") else [])
    status = 0
    for backend in backends:
        # One process a backend: Django is configured once per process.
        cmd = [sys.executable, "-m", "bench.run", "--backend", backend, "--projects", str(args.projects),
               "--pairs", str(args.pairs), *(["--regenerate"] if args.regenerate else []),
               *(["--strict"] if args.strict else []), *(["--smoke"] if args.smoke else []),
               *(["--only", *args.only] if args.only else [])]
        status |= subprocess.call(cmd, cwd=Path(__file__).resolve().parent.parent)
    return status


if __name__ == "__main__":
    sys.exit(main())
