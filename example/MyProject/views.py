import json

from django.db import connection
from django.http import HttpResponse


def index(request):
    return HttpResponse("Hello from Django behind nginx and PgBouncer.\nTry /db\n", content_type="text/plain")


def db(request):
    """One query through the pooler: is the server connection TLS?"""
    with connection.cursor() as cur:
        cur.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        ssl, version = cur.fetchone()
    # Where the app's own connection went: the pooler's private socket directory.
    body = {"tls": ssl, "tls_version": version, "via": connection.connection.info.host, "database": connection.settings_dict["NAME"]}
    return HttpResponse(json.dumps(body) + "\n", content_type="application/json")
