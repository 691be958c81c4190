"""Starts the built Flowgate server on a fresh database for the PyMISP suite.

The suite runs once on a temporary SQLite file and, when FLOWGATE_TEST_POSTGRES_URL is set (as
.ci/run sets it), again on a fresh PostgreSQL database that is dropped afterwards.
"""
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import pytest
from pymisp import PyMISP

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER = os.environ.get("FLOWGATE_SERVER_BIN", os.path.join(ROOT, "target", "debug", "server"))
ADMIN_EMAIL = "admin@pymisp.test"
# 40 letters and digits, fresh for every run.
ADMIN_KEY = secrets.token_hex(20)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(url: str, sql: str) -> None:
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True)


def backends():
    yield "sqlite"
    if os.environ.get("FLOWGATE_TEST_POSTGRES_URL"):
        yield "postgres"


@pytest.fixture(scope="session", params=list(backends()))
def server(request):
    data = tempfile.mkdtemp(prefix="flowgate-pymisp-")
    dropdb = None
    if request.param == "sqlite":
        database_url = f"sqlite://{data}/flowgate.db?mode=rwc"
    else:
        base = os.environ["FLOWGATE_TEST_POSTGRES_URL"]
        name = f"flowgate_pymisp_{secrets.token_hex(6)}"
        psql(base, f'CREATE DATABASE "{name}"')
        parts = urllib.parse.urlsplit(base)
        database_url = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
        dropdb = (base, name)
    port = free_port()
    env = dict(
        os.environ,
        FLOWGATE_DATABASE_URL=database_url,
        FLOWGATE_ADDR=f"127.0.0.1:{port}",
        FLOWGATE_ADMIN_EMAIL=ADMIN_EMAIL,
        FLOWGATE_ADMIN_PASSWORD="pymisp-admin-password",
        FLOWGATE_ADMIN_API_KEY=ADMIN_KEY,
        FLOWGATE_LOG_DIR=os.path.join(data, "logs"),
        LEPTOS_SITE_ROOT=os.path.join(ROOT, "target", "site"),
        LEPTOS_SITE_PKG_DIR="pkg",
        LEPTOS_OUTPUT_NAME="flowgate",
        RUST_LOG=os.environ.get("RUST_LOG", "warn"),
    )
    log = open(os.path.join(data, "server.log"), "w")
    proc = subprocess.Popen([SERVER], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            req = urllib.request.Request(
                f"{url}/servers/getVersion.json", headers={"Authorization": ADMIN_KEY}
            )
            with urllib.request.urlopen(req, timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            log.close()
            raise RuntimeError("server did not start:\n" + open(os.path.join(data, "server.log")).read())
        time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()
    if dropdb:
        psql(dropdb[0], f'DROP DATABASE IF EXISTS "{dropdb[1]}" WITH (FORCE)')
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def misp(server):
    return PyMISP(server, ADMIN_KEY, ssl=False)
