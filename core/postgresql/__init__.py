"""Django's PostgreSQL backend with a health check that makes no round trip when there is nothing to check
(``ENGINE = "core.postgresql"``, set in config/settings/base.py for PostgreSQL URLs)."""
