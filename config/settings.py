"""One settings module for every environment, driven by environment variables (django-environ).

The defaults run the demo on SQLite with DEBUG on; production sets DJANGO_DEBUG=off, DJANGO_SECRET_KEY,
DJANGO_ALLOWED_HOSTS and DATABASE_URL (PostgreSQL). Every variable is documented in README.md.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    default="dev-only-insecure-key-change-me" if DEBUG else environ.Env.NOTSET,
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "concurrency",
    "config.apps.AxesConfig",
    "simple_history",
    "django_fsm",
    "import_export",
    "projects",
    "ledgers",
    "bonds",
    "config",
]

MIDDLEWARE = [
    # First, so that nothing else runs for the load balancer's poll: no login, axes, redirect (config.health).
    "config.health.HealthzMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.IdleTimeoutMiddleware",  # inside SessionMiddleware, so that its refresh is saved
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.api.errors.ApiErrorsMiddleware",  # NUL bytes in /api/ query strings: a JSON 400
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.todo.header",  # the header's 待办 and unread-notification badges (one query, lazily)
            ],
        },
    },
]


def database(url: str) -> dict:
    """The connection settings for DATABASE_URL (SQLite for the demo and tests, PostgreSQL in production)."""
    config = env.db_url_config(url)
    config["ATOMIC_REQUESTS"] = True
    options = config.setdefault("OPTIONS", {})
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Serialise writers instead of failing with "database is locked" under concurrent requests.
        options.update({"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"})
    else:
        config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        # No JIT compilation: it pays only for long analytic queries, and the status pages' queries (correlated
        # sums over many rows) spent most of their time compiling (bench/README.md).
        if "jit" not in options.get("options", ""):
            options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    return config


DATABASES = {"default": database(env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "config.auth.Backend",  # ModelBackend, reading the user with their profile
]
LOGIN_URL = "admin:login"
# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT failures for one user name from one address, that
# pair waits LOGIN_COOLOFF_MINUTES — never a whole office behind one address, never forever. A supervisor
# unlocks early by deleting the attempt in the admin (访问尝试).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Failures are counted in the database, which every server shares: a lockout earned on one server holds on the
# others, and survives a restart of the cache (axes' cache handler would lose it with Redis).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]  # overrides of stock strings that read badly in Chinese
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
# Uploads (and Excel files between preview and confirm) go to MEDIA_ROOT, or, with MEDIA_S3_BUCKET set, to
# S3-compatible object storage (政务云对象存储) that every server shares (config/storage.py). Either way they
# are served only through /media/ with the login and row-scope checks (config/storage.py).


def s3_media_storage(*, bucket: str, endpoint_url: str | None, access_key: str | None, secret_key: str | None,
                     region_name: str | None, location: str = "", addressing_style: str = "path") -> dict:
    """STORAGES["default"] in S3-compatible object storage (config.s3.MediaS3Storage)."""
    return {
        "BACKEND": "config.s3.MediaS3Storage",
        "OPTIONS": {
            "bucket_name": bucket, "endpoint_url": endpoint_url, "access_key": access_key, "secret_key": secret_key,
            "region_name": region_name, "location": location, "addressing_style": addressing_style,
            "default_acl": None,  # private: the bucket's own policy, never public-read
            # Names are fresh uuids (config.uploads): no HEAD request per save to find a free one.
            "file_overwrite": True,
        },
    }


MEDIA_S3_BUCKET = env.str("MEDIA_S3_BUCKET", default="")
MEDIA_STORAGE = s3_media_storage(
    bucket=MEDIA_S3_BUCKET,
    endpoint_url=env.str("MEDIA_S3_ENDPOINT_URL", default="") or None,  # unset: Amazon's own
    access_key=env.str("MEDIA_S3_ACCESS_KEY", default="") or None,  # unset: boto3's own lookup (AWS_* and files)
    secret_key=env.str("MEDIA_S3_SECRET_KEY", default="") or None,
    region_name=env.str("MEDIA_S3_REGION", default="") or None,
    location=env.str("MEDIA_S3_PREFIX", default=""),  # a folder in the bucket, e.g. "keyprojects"
    addressing_style=env.str("MEDIA_S3_ADDRESSING_STYLE", default="path"),  # 政务云 object storage mostly needs path
) if MEDIA_S3_BUCKET else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
# Largest site photo a clerk may upload, in bytes.
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=8 * 1024 * 1024)
# Largest document of 一案两书 (PDF, OFD, Word, Excel), in bytes.
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=20 * 1024 * 1024)
# Uploads are served only by config.uploads.serve_upload (login and row scope), never by the web server
# directly, so no other account needs to read them.
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750

# Django's database sessions, which every server shares; with a cache shared by every process (CACHE_URL, e.g.
# redis://127.0.0.1:6379/1) they are read from the cache first. A per-process cache would let one process read
# a session another has ended, so without CACHE_URL the cache is not used for sessions.
if env.str("CACHE_URL", default=""):
    CACHES = {"default": env.cache_url("CACHE_URL")}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=8 * 3600)
# The idle clock restarts when the session is saved, at most once a minute (config.middleware).
SESSION_REFRESH_SECONDS = 60

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_PROXY", default=True) else None
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="重点项目办 <noreply@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
}

REST_FRAMEWORK = {
    # Token first: an anonymous request gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.defaults.RolePermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        "projects.filters.StrictFilterBackend",
        "config.api.filters.StrictOrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.defaults.Pagination",
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.DocumentedErrorsSchema",
    "EXCEPTION_HANDLER": "config.api.base.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
# API rate limit per user (token or session), e.g. "600/minute"; unset: none. Counted in the cache: with
# CACHE_URL (Redis) one count for every server, else each process counts alone. Off by default because the
# load harness (bench/) drives the API far past any per-person rate on purpose.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="")
if API_RATE_LIMIT:
    REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["rest_framework.throttling.UserRateThrottle"]
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"user": API_RATE_LIMIT}
SPECTACULAR_SETTINGS = {
    "TITLE": "长春市重点项目推进管理系统 API",
    "DESCRIPTION": "项目台账、推进台账与专项债券。金额单位均为万元。修改须提交读取到的 version，过期返回 409。",
    "VERSION": "1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.require_version_on_updates",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ProjectCategoryEnum": "projects.choices.Category",
        "TaskForceLevelEnum": "projects.choices.TaskForceLevel",
        "CauseCategoryEnum": "ledgers.choices.CauseCategory",
        "ProblemLevelEnum": "ledgers.choices.ProblemLevel",
    },
}

# Excel import/export (config.excel). Files wait between preview and confirm in media storage, which
# every server behind the proxy shares (the default temp folder is per server).
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.MediaStorage"
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_SKIP_ADMIN_LOG = True  # the history rows, with the importing user, are the audit trail
EXCEL_MAX_UPLOAD_BYTES = env.int("EXCEL_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
EXCEL_MAX_UNCOMPRESSED_BYTES = env.int("EXCEL_MAX_UNCOMPRESSED_BYTES", default=200 * 1024 * 1024)
EXCEL_MAX_ZIP_ENTRIES = env.int("EXCEL_MAX_ZIP_ENTRIES", default=1000)
EXCEL_MAX_COMPRESSION_RATIO = env.int("EXCEL_MAX_COMPRESSION_RATIO", default=100)
EXCEL_MAX_ROWS = env.int("EXCEL_MAX_ROWS", default=50000)

# simple-history: reverting from the history page would bypass the stage machine and the money rules.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# --- The office's own settings (all documented in README.md) ---
# Demo accounts' password, printed by `make demo`.
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="demo-2021")
# Month-on-month cumulative fixed-asset investment growth that counts toward the streak, in percent.
FAI_STREAK_THRESHOLD_PCT = Decimal(env.str("FAI_STREAK_THRESHOLD_PCT", default="7"))
# 红黄绿灯 thresholds (DOMAIN.md).
LIGHTS = {
    "not_started_yellow_months": env.int("LIGHT_NOT_STARTED_YELLOW_MONTHS", default=1),
    "not_started_red_months": env.int("LIGHT_NOT_STARTED_RED_MONTHS", default=3),
    "not_registered_yellow_days": env.int("LIGHT_NOT_REGISTERED_YELLOW_DAYS", default=30),
    "not_registered_red_days": env.int("LIGHT_NOT_REGISTERED_RED_DAYS", default=60),
    "behind_schedule_yellow_points": env.int("LIGHT_BEHIND_YELLOW_POINTS", default=10),
    "behind_schedule_red_points": env.int("LIGHT_BEHIND_RED_POINTS", default=30),
    "due_soon_days": env.int("LIGHT_DUE_SOON_DAYS", default=7),
}
# Minimum 本息覆盖倍数 for a special-bond application.
BOND_MIN_COVERAGE_RATIO = Decimal(env.str("BOND_MIN_COVERAGE_RATIO", default="1.1"))
# Bond money is expected to be spent within this many months of issue.
BOND_SPENDING_MONTHS = env.int("BOND_SPENDING_MONTHS", default=6)

# 待办 and notifications (issue 16)
TODO_STALE_DAYS = env.int("TODO_STALE_DAYS", default=30)  # a ledger entry with no progress note for this long
TODO_PAGE_ITEMS = env.int("TODO_PAGE_ITEMS", default=50)  # items listed per kind on /todo/ (the count is exact)
# 填报期 (issue 18): month M's reports are due by this day of month M+1 (REPORT_DUE_DAY is its former name).
REPORT_PERIOD_CLOSE_DAY = env.int("REPORT_PERIOD_CLOSE_DAY", default=env.int("REPORT_DUE_DAY", default=5))
# 审核规则 (projects/quality.py): the thresholds of the monthly reports' data-quality rules.
QUALITY = {
    "spike_factor": Decimal(env.str("QUALITY_SPIKE_FACTOR", default="3")),  # × the mean of the last 3 non-zero months
    "spike_min_wan": Decimal(env.str("QUALITY_SPIKE_MIN_WAN", default="1000")),  # … and above this many 万元
    "month_share_pct": Decimal(env.str("QUALITY_MONTH_SHARE_PCT", default="30")),  # one month > this % of the total
    "photo_reports": env.int("QUALITY_PHOTO_REPORTS", default=3),  # no photo in this many reports of a 在建 project
    "behind_points": env.int("QUALITY_BEHIND_POINTS", default=30),  # year-to-date behind 序时进度 by more points …
    "behind_from_month": env.int("QUALITY_BEHIND_FROM_MONTH", default=9),  # … from this month on
    "photo_max_age_days": env.int("QUALITY_PHOTO_MAX_AGE_DAYS", default=90),  # taken this long before upload
    "explanation_min_chars": env.int("QUALITY_EXPLANATION_MIN_CHARS", default=10),  # a warning's 说明
}
NOTIFY_WEBHOOK_HOSTS = env.list("NOTIFY_WEBHOOK_HOSTS", default=["qyapi.weixin.qq.com", "oapi.dingtalk.com"])
NOTIFY_WEBHOOK_TRIES = env.int("NOTIFY_WEBHOOK_TRIES", default=3)
NOTIFY_WEBHOOK_BACKOFF_SECONDS = env.float("NOTIFY_WEBHOOK_BACKOFF_SECONDS", default=2.0)
NOTIFY_WEBHOOK_TIMEOUT = env.float("NOTIFY_WEBHOOK_TIMEOUT", default=10.0)
NOTIFY_WEBHOOK_CA_FILE = env.str("NOTIFY_WEBHOOK_CA_FILE", default="")  # extra CA bundle (tests: a local receiver)

# Jobs run once however many servers start them (config.jobs). On SQLite a lock row left by a job that died is
# taken over after this many seconds (PostgreSQL's advisory locks end with the job's connection).
JOB_LOCK_STALE_SECONDS = env.int("JOB_LOCK_STALE_SECONDS", default=6 * 3600)
# 调度会 (issue 20): a generated agenda lists at most this many red-light projects, the largest first.
MEETING_RED_PROJECTS = env.int("MEETING_RED_PROJECTS", default=20)
# 排名 and 通报 (issue 20): the composite rank's weight of each measure (config.rankings.MEASURES keys)
RANKING_WEIGHTS = env.dict("RANKING_WEIGHTS", cast={"value": int}, default={
    "start_rate": 25, "completion": 25, "registration": 20, "clearance": 20, "overdue_problems": 10,
    "late_reports": 10,
})
BULLETIN_ISSUER = env.str("BULLETIN_ISSUER", default="投资促进和重点项目推进工作领导小组办公室")
BULLETIN_RED_PROJECTS_PER_DISTRICT = env.int("BULLETIN_RED_PROJECTS_PER_DISTRICT", default=10)  # listed by name
