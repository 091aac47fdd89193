"""Fixtures every app's tests share: two districts, a unit, and the five kinds of visitor.

- `clerk`: 区县填报员 of 朝阳区      - `other_clerk`: 区县填报员 of 南关区
- `dept_clerk`: 部门填报员 of 市发改委 - `supervisor`: 督查           - `client`: anonymous
Log a visitor in with `login(user)`, which returns a Django test client.
"""

from __future__ import annotations

import datetime
import itertools
import os
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test import Client

from config.roles import Role
from projects.choices import Category, DistrictKind, Industry
from projects.models import District, Project, Unit, UserProfile

_serial = itertools.count(1)

# --- how the suite runs -------------------------------------------------------------------------------------

CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config):
    """Passwords are hashed with MD5 in tests: production's PBKDF2 takes 0.43 s a hash on CI's machine, and the
    fixtures create four or five users per test (the suite took 448 s on SQLite in CI with it).

    Under pytest-xdist (`make test` runs `-n auto`) each worker has its own test database (pytest-django
    appends `_gw0`, `_gw1`… to its name); a live server on a fixed port (`--liveserver host:port` or
    DJANGO_LIVE_TEST_SERVER_ADDRESS) gets the port plus the worker's number, so workers never collide. Without
    either, the live server takes a free port of its own."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return
    offset = int(worker[2:])
    option = getattr(config.option, "liveserver", None)
    if option:
        config.option.liveserver = _port_plus(option, offset)
    elif os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS"):
        os.environ["DJANGO_LIVE_TEST_SERVER_ADDRESS"] = _port_plus(os.environ["DJANGO_LIVE_TEST_SERVER_ADDRESS"],
                                                                   offset)


def _port_plus(address: str, offset: int) -> str:
    host, _, port = address.rpartition(":")
    return f"{host}:{int(port) + offset}" if host and port.isdigit() else address


def _fail_a_skip_in_ci(report) -> None:
    """In CI (CI=true) nothing is skipped: a skip is reported as a failure, with its reason."""
    if CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may be skipped: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_a_skip_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_a_skip_in_ci(outcome.get_result())


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_use_migrations,
                    django_db_keepdb, django_db_createdb, django_db_modify_db_settings):
    """pytest-django's, but each worker's database is cloned from a template migrated once a run
    (tests/db_template.py): migrating cost every worker 60 to 100 s of CPU. Without migrations
    (--nomigrations) there is nothing to share, and pytest-django's way is kept."""
    from functools import partial
    from uuid import uuid4

    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _disable_migrations, _get_databases_for_setup

    from tests.db_template import clone_test_db

    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    run = getattr(request.config, "workerinput", {}).get("testrunuid") or uuid4().hex
    verbosity = request.config.option.verbose
    cloned = [connections[alias].creation for alias in aliases if django_db_use_migrations]
    if not django_db_use_migrations:
        _disable_migrations()
    for creation in cloned:
        creation.create_test_db = partial(clone_test_db, creation, run=run, rebuild=django_db_createdb)
    try:
        with django_db_blocker.unblock():
            db_cfg = setup_databases(verbosity=verbosity, interactive=False, aliases=aliases,
                                     serialized_aliases=serialized_aliases,
                                     keepdb=django_db_keepdb and not django_db_createdb)
    finally:
        for creation in cloned:
            del creation.create_test_db
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            teardown_databases(db_cfg, verbosity=verbosity)


@pytest.fixture
def chaoyang(db) -> District:
    return District.objects.create(name="朝阳区", short_name="朝阳", kind=DistrictKind.URBAN, sort_order=1)


@pytest.fixture
def nanguan(db) -> District:
    return District.objects.create(name="南关区", short_name="南关", kind=DistrictKind.URBAN, sort_order=2)


@pytest.fixture
def fgw(db) -> Unit:
    return Unit.objects.create(name="长春市发展和改革委员会", short_name="市发改委")


@pytest.fixture
def other_unit(db) -> Unit:
    return Unit.objects.create(name="长春市住房和城乡建设局", short_name="市住建局")


def make_user(username: str, role: str | None, *, district=None, unit=None) -> User:
    user = User.objects.create_user(username=username, password="pw-for-tests-1", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    UserProfile.objects.create(user=user, district=district, unit=unit)
    return user


@pytest.fixture
def clerk(chaoyang) -> User:
    return make_user("clerk_chaoyang", Role.DISTRICT_CLERK, district=chaoyang)


@pytest.fixture
def other_clerk(nanguan) -> User:
    return make_user("clerk_nanguan", Role.DISTRICT_CLERK, district=nanguan)


@pytest.fixture
def dept_clerk(fgw) -> User:
    return make_user("dept_fgw", Role.UNIT_CLERK, unit=fgw)


@pytest.fixture
def supervisor(db) -> User:
    return make_user("supervisor", Role.SUPERVISOR)


@pytest.fixture
def login():
    def _login(user: User) -> Client:
        c = Client()
        c.force_login(user)
        return c

    return _login


@pytest.fixture
def api():
    """`api(user)`: a REST client authenticated as `user` (anonymous without one)."""
    from rest_framework.test import APIClient

    def _api(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return _api


def make_project(district: District, **fields) -> Project:
    """A project in `district`; stage and dates other than the defaults go through services, not here."""
    n = next(_serial)
    values = {
        "code": f"2101-220104-04-01-{n:06d}",
        "name": f"测试项目{n}",
        "industry": Industry.AUTO,
        "category": Category.INDUSTRIAL,
        "owner": "测试建设单位",
        "total_investment": Decimal("12000"),
        "planned_start": datetime.date(2021, 4, 1),
    }
    values.update(fields)
    return Project.objects.create(district=district, **values)


@pytest.fixture
def project_factory(db):
    return make_project


@pytest.fixture(scope="module")
def demo_module(django_db_setup, django_db_blocker):
    """The demo city (tests/demo_snapshot.py), loaded once for the module that asks for it and rolled back after it."""
    from tests.demo_snapshot import load_demo

    with django_db_blocker.unblock():
        with transaction.atomic():
            load_demo()
            yield
            transaction.set_rollback(True)
