"""A small Django project: the reference article's set-up, for `npm run demo`."""
import os

import dj_database_url

SECRET_KEY = os.environ.get("SECRET_KEY", "demo-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "MyProject.urls"
INSTALLED_APPS = ["django.contrib.contenttypes"]
MIDDLEWARE = []
# DATABASE_URL is what start-pgbouncer-stunnel rewrote to point at the local pooler.
DATABASES = {"default": dj_database_url.config(conn_max_age=0)}
USE_TZ = True
TIME_ZONE = "UTC"
WSGI_APPLICATION = "MyProject.wsgi.application"
