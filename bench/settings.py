"""Production settings (DEBUG off, read from the environment as in production) plus the bench's own
two additions: the floor view's URL and a header with the number of SQL queries of each response.

Used only by ``make bench`` (bench/run.py sets the environment); production never loads this module,
so the floor view is never in production's URLs.
"""

from config.settings import *  # noqa: F403
from config.settings import BASE_DIR, MIDDLEWARE, TEMPLATES

#: The floor view (bench/urls.py) is served only when this is on.
BENCH_FLOOR = True
ROOT_URLCONF = "bench.urls"
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]}]
