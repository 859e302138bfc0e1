# The shop's image for docker-compose.yml: web (gunicorn), Celery worker and beat share it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VAR_DIR=/var/lib/shop

# WeasyPrint renders invoices with Debian's pango/harfbuzz; libharfbuzz-subset0 makes fonts small
# and rendering fast; DejaVu covers Cyrillic and the rouble sign. gettext compiles the translations.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Dependencies first (cached until pyproject.toml or the lock changes); runtime only, no dev extra.
COPY pyproject.toml requirements.lock README.md ./
RUN pip install -c requirements.lock .

COPY . .
# Static files (and whitenoise's manifest) are in the image, so every container — the worker too,
# which renders e-mails — finds them. The key below exists only for this build step.
RUN SECRET_KEY=collectstatic-at-build-time-only-0123456789abcdefghijklmnopqrstuvwxyz FIELD_ENCRYPTION_SALT=build-only DEBUG=false \
    python manage.py collectstatic --noinput --verbosity 0 \
    && SECRET_KEY=compilemessages-at-build-time-only-0123456789abcdefghijklmnopqrstuvwxyz FIELD_ENCRYPTION_SALT=build-only \
    DEBUG=false python manage.py compilemessages --verbosity 0
RUN useradd --system --home-dir /app --shell /usr/sbin/nologin shop \
    && mkdir -p "$VAR_DIR" /app/staticfiles \
    && chown -R shop:shop "$VAR_DIR" /app/staticfiles
USER shop

EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
