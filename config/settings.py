"""The one settings module. Every knob reads the environment; README lists them.

Defaults give a laptop a working shop with nothing to install: SQLite in ``var/`` and
Celery on kombu's ``filesystem://`` transport. ``DATABASE_URL`` and ``REDIS_URL`` switch to
PostgreSQL and Redis.
"""

import contextlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"
# DLV-ID-CHECK: identity document numbers are encrypted at rest (django-fernet-encrypted-fields). The
# Fernet key is derived from SECRET_KEY and this salt (the library's SALT_KEY); rotate SECRET_KEY only
# with the old one in SECRET_KEY_FALLBACKS, or the stored numbers can no longer be read.
# Bank account numbers (issue #10) use the same key. Several comma-separated salts rotate it: the first
# encrypts, every one still decrypts (README, "Security").
SALT_KEY = env_list("FIELD_ENCRYPTION_SALT", "")
if not SALT_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_SALT must be set when DEBUG is off.")
    SALT_KEY = ["dev-only-field-encryption-salt"]

# A rotated SECRET_KEY: the old ones, still accepted for sessions, signed links and encrypted fields.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# Absolute address of the shop, used in e-mails and PayPal return URLs. Production has no default:
# the deploy check (shop.checks) names it when it is missing.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "").rstrip("/")

INSTALLED_APPS = [
    "modeltranslation",  # before the admin: catalogue fields per language (shop/translation.py)
    "shop.admin_apps.ShopAdminConfig",  # django.contrib.admin with the second-factor login (shop.admin_site)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "djmoney",
    "django_celery_beat",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_filters",
    "sorl.thumbnail",
    "phonenumber_field",
    "shop",
    "orders",
    "payments",
    "shipping",
    "refunds",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "shop.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # the language: the header switch's cookie, else the browser's
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the lockout page
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
                "shop.context_processors.shop",
            ],
            # {% trans %} everywhere; {{ value|money }}: money the one way of the active language (shop.money)
            "builtins": ["django.templatetags.i18n", "shop.templatetags.shop_format"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {
                # Concurrent writers (web, worker, beat) wait for the lock instead of failing
                # with "database is locked": take the write lock at BEGIN and wait up to 20 s.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ["TEST_DATABASE_NAME"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery --------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # A message taken by a worker that dies before acknowledging it (acks_late) is delivered
    # again after the visibility timeout. Keep it longer than the longest task and any countdown.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_QUEUE_DIR = VAR_DIR / "celery"
    for sub in ("in", "processed", "results", "control"):
        (CELERY_QUEUE_DIR / sub).mkdir(parents=True, exist_ok=True)
    # The embedded broker: kombu's filesystem transport needs no server. Its options are set
    # only for this transport (they leak into other transports' engines otherwise).
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "in"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "in"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        # kombu otherwise writes its broadcast/control files into ./control of the working directory
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_QUEUE_DIR / 'results'}"

# Anonymous catalogue pages are cached this many seconds at most (shop/catalogue_cache.py); a staff change
# to a product, category or the policy makes every cached page stale at once. 0 turns the cache off.
CATALOGUE_CACHE_SECONDS = int(os.environ.get("CATALOGUE_CACHE_SECONDS", "300"))

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# One queue name per deployment; integration tests give each test its own so runs never share.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message to be redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: a locked-out username + address is refused before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
# Password guessing (django-axes): after this many failures for one username from one address, that
# pair is locked out for LOGIN_LOCKOUT_MINUTES (staff unlock earlier under Axes › Access attempts).
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind a TLS proxy the client's address is in X-Forwarded-For; trust only this many proxies.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if TRUSTED_PROXY_COUNT else ("REMOTE_ADDR",)
# Staff who may refund, record transfers or see full bank accounts (shop.admin_site.SECOND_FACTOR_PERMISSIONS)
# sign in to the admin with a TOTP code (django-otp). On by default in production.
ADMIN_OTP_REQUIRED = env_bool("ADMIN_OTP_REQUIRED", not DEBUG)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Orderflow shop")
LOGIN_REDIRECT_URL = "account"
LOGOUT_REDIRECT_URL = "shop:product_list"

# --- I18N / time ----------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates one way per language, the same in the shop, e-mails, PDFs and the admin (config/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
# Catalogue content (names, descriptions, categories, delivery methods, regions) per language; an
# empty translation falls back to the other language, English first.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = {"default": ("en", "ru")}
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # the header switch remembers the choice for a year
# Storage is in UTC; the shop's own time zone (business hours, holidays) lives in the Policy.
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise warns on every request when the folder is missing (before the first collectstatic).
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Customers' claim photos and signed acts are private: they live outside MEDIA_ROOT (which is served
# publicly for product pictures) and staff open them only through the admin.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Media: product pictures (Django's storage API; thumbnails by sorl-thumbnail) --------------
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# The shop serves its own media files (config/urls.py) unless a web server in front does (SERVE_MEDIA=0).
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)
# Thumbnails are made on first use and remembered in the cache and the thumbnail_kvstore table.
THUMBNAIL_PRESERVE_FORMAT = True
THUMBNAIL_QUALITY = 85

# --- Phone numbers (django-phonenumber-field): numbers without a country code are read as Russian ----
PHONENUMBER_DEFAULT_REGION = os.environ.get("PHONENUMBER_DEFAULT_REGION", "RU")
PHONENUMBER_DEFAULT_FORMAT = "INTERNATIONAL"

# --- Money ----------------------------------------------------------------------------------
CURRENCIES = ("RUB", "EUR", "USD")
DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "RUB")

# --- E-mail ---------------------------------------------------------------------------------
# Default: every message is written to var/mail/ (and kept in the admin's outbox).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Rusoptics shop <shop@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- PayPal ---------------------------------------------------------------------------------
# In development an unset PAYPAL_CLIENT_ID means "use the local PayPal stand-in" (make run starts it).
# In production nothing falls back to the stand-in: the values stay empty and the deploy check names them.
PAYPAL_STANDIN = DEBUG and not os.environ.get("PAYPAL_CLIENT_ID")
PAYPAL_API_BASE = os.environ.get(
    "PAYPAL_API_BASE", "http://127.0.0.1:8765" if PAYPAL_STANDIN else "https://api-m.paypal.com"
).rstrip("/")
PAYPAL_CLIENT_ID = os.environ.get("PAYPAL_CLIENT_ID", "standin-client" if PAYPAL_STANDIN else "")
PAYPAL_CLIENT_SECRET = os.environ.get("PAYPAL_CLIENT_SECRET", "standin-secret" if PAYPAL_STANDIN else "")
# PayPal ids are [A-Za-z0-9]+
PAYPAL_WEBHOOK_ID = os.environ.get("PAYPAL_WEBHOOK_ID", "STANDINWEBHOOK" if PAYPAL_STANDIN else "")
PAYPAL_TIMEOUT = float(os.environ.get("PAYPAL_TIMEOUT", "15"))
# PayPal's events are a few KB: anything larger is refused (413) before it is parsed or stored.
PAYPAL_WEBHOOK_MAX_BYTES = int(os.environ.get("PAYPAL_WEBHOOK_MAX_BYTES", str(64 * 1024)))
# Webhook requests per source address per minute; above it the answer is 429 and PayPal retries later.
PAYPAL_WEBHOOK_RATE_PER_MINUTE = int(os.environ.get("PAYPAL_WEBHOOK_RATE_PER_MINUTE", "120"))

# --- Fulfilment partner (SHIP-SUBCONTRACTOR) -----------------------------------------------
# Each ready order is POSTed to the partner's endpoint (if set); a try gives up after this many seconds.
SHIP_PARTNER_TIMEOUT = float(os.environ.get("SHIP_PARTNER_TIMEOUT", "10"))
# Celery's back-off base for the POST's retries (seconds: ~base, 2×base, 4×base … with full jitter).
SHIP_PARTNER_RETRY_BACKOFF = int(os.environ.get("SHIP_PARTNER_RETRY_BACKOFF", "30"))
# A partner endpoint must be https://. Development and tests may allow http:// (a local test partner);
# production (DEBUG off) refuses to start with it rather than quietly sending orders in clear text.
SHIP_PARTNER_ALLOW_HTTP = env_bool("SHIP_PARTNER_ALLOW_HTTP", False)
if SHIP_PARTNER_ALLOW_HTTP and not DEBUG:
    raise ImproperlyConfigured("SHIP_PARTNER_ALLOW_HTTP is for development and tests only (DEBUG on).")

# --- Security (production: DEBUG=false passes `manage.py check --deploy`) -------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy (django-csp): scripts only from the shop's own static files, never inline.
# Inline style attributes stay allowed (the admin and e-mail-like tables use them); they run no code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features the shop never uses are switched off (shop.middleware.PermissionsPolicyMiddleware).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), interest-cohort=()"
)
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint and fontTools log dozens of INFO lines per PDF (every step, every font subset):
        # noise in a worker's log, and memory wherever records are kept (pytest keeps them all).
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
