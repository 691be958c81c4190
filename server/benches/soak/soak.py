#!/usr/bin/env python3
"""Soak: a release server under mixed MISP actions with workflows listening, for a bounded time.

Starts `target/release/server` on a fresh SQLite file (or on FLOWGATE_DATABASE_URL), switches
workflows on for `event-publish` (a blocking tag gate), `attribute-after-save` and
`event-after-save` (non-blocking: the durable queue runs them, posting to a loopback sink), then
loops over mixed actions from several client threads: add events, add attributes, edit and
delete attributes, attach tags, publish (some refused by the gate), add users, post to threads.
Every SAMPLE seconds it reads the server's resident memory. At the end it waits for the queue to
drain and prints: requests by route, errors (any answer other than the expected one), jobs
left unfinished or dead, webhook deliveries, and RSS over time. Exits non-zero on any error, an
unfinished or dead job, or memory that kept growing (last quarter's median more than 10 % above the second quarter's).

Loopback only; nothing but the standard library.

    python3 server/benches/soak/soak.py --minutes 10 --clients 2
"""
import argparse
import contextlib
import http.server
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

KEY = "SoakKeyForTheBench0123456789abcdefghijkl"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink(http.server.BaseHTTPRequestHandler):
    calls = 0
    lock = threading.Lock()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        with Sink.lock:
            Sink.calls += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class Client:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", KEY)
        req.add_header("Accept", "application/json")
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def queued(db_path):
    """Jobs not yet done, read from the SQLite file."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)) as db:
            return db.execute("SELECT count(*) FROM workflow_jobs WHERE status != 'done'").fetchone()[0]
    except sqlite3.Error:
        return None


def graph(trigger, name, nodes):
    """A workflow graph: the trigger, then `nodes` (module id, params) in a chain."""
    filters = {"selector": "", "value": "", "operator": "", "path": ""}
    g = {"1": {"id": 1, "name": name, "class": "block-type-trigger", "typenode": False,
               "data": {"id": trigger, "name": name, "module_type": "trigger", "indexed_params": []},
               "inputs": [], "outputs": {"output_1": {"connections": []}}, "pos_x": 0, "pos_y": 0}}
    prev = "1"
    for n, (module, kind, params) in enumerate(nodes, start=2):
        g[prev]["outputs"]["output_1"]["connections"].append({"node": str(n), "output": "input_1"})
        g[str(n)] = {"id": n, "name": module, "class": "block-type-default", "typenode": False,
                     "data": {"id": module, "name": module, "module_type": kind,
                              "indexed_params": params, "saved_filters": filters},
                     "inputs": {"input_1": {"connections": [{"node": prev, "input": "output_1"}]}},
                     "outputs": {"output_1": {"connections": []}, "output_2": {"connections": []}},
                     "pos_x": 300 * (n - 1), "pos_y": 0}
        prev = str(n)
    return g


def install(c, trigger, g):
    status, opened = c.call("GET", f"/workflows/editor/{trigger}")
    assert status == 200, opened
    wid = opened["Workflow"]["id"]
    status, out = c.call("POST", f"/workflows/edit/{wid}", {"Workflow": {"data": g}})
    assert status == 200, out
    status, out = c.call("POST", f"/servers/serverSettingsEdit/Plugin.Workflow_triggers_{trigger}",
                         {"value": True})
    assert status == 200, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--sample", type=float, default=10)
    ap.add_argument("--workers", type=int, default=4, help="FLOWGATE_WORKERS of the server")
    ap.add_argument("--server", default="target/release/server")
    args = ap.parse_args()

    sink_port = free_port()
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", sink_port), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()

    work = tempfile.mkdtemp(prefix="flowgate-soak-")
    db_path = os.path.join(work, "flowgate.db")
    url = os.environ.get("FLOWGATE_DATABASE_URL") or f"sqlite://{db_path}?mode=rwc"
    port = free_port()
    env = dict(os.environ, FLOWGATE_DATABASE_URL=url, FLOWGATE_ADDR=f"127.0.0.1:{port}",
               FLOWGATE_ADMIN_API_KEY=KEY, FLOWGATE_LOG_DIR=os.path.join(work, "logs"),
               FLOWGATE_ADMIN_PASSWORD="soak-password-long-enough", RUST_LOG="warn",
               FLOWGATE_WORKERS=str(args.workers))
    server = subprocess.Popen([args.server], env=env, stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(work, "server.log"), "w"))
    c = Client(f"http://127.0.0.1:{port}")
    for _ in range(600):
        try:
            if c.call("GET", "/servers/getVersion.json")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.1)
    else:
        with open(os.path.join(work, "server.log")) as f:
            sys.exit("the server did not start:\n" + f.read()[-2000:])

    for name, value in (("Security.rest_client_enable_arbitrary_urls", True),
                        ("Security.outbound_allowed_hosts", "127.0.0.1"),
                        ("Plugin.Workflow_enable", True)):
        status, out = c.call("POST", f"/servers/serverSettingsEdit/{name}", {"value": value})
        assert status == 200, (name, out)
    hook = {"url": f"http://127.0.0.1:{sink_port}/hook", "content_type": "json",
            "request_method": "post", "self_signed": "deny", "headers": "", "payload": ""}
    install(c, "event-publish", graph("event-publish", "Event Publish", [
        ("tag-if", "logic", {"scope": "event_attribute", "condition": "in_or", "tags": ["tlp:red"]}),
        ("stop-execution", "action", {"message": "tlp:red data"}),
    ]))
    install(c, "attribute-after-save", graph("attribute-after-save", "Attribute After Save",
                                             [("webhook", "action", hook)]))
    install(c, "event-after-save", graph("event-after-save", "Event After Save",
                                         [("webhook", "action", hook)]))

    counts, errors = {}, []
    lock = threading.Lock()
    stop_at = time.time() + args.minutes * 60

    def note(route, status, expected, out):
        with lock:
            counts[route] = counts.get(route, 0) + 1
            if status not in expected:
                errors.append((route, status, str(out)[:200]))

    def client(n):
        rnd = random.Random(n)
        seq = 0
        while time.time() < stop_at:
            seq += 1
            red = rnd.random() < 0.2
            attrs = [{"type": "ip-dst", "value": f"198.51.{n}.{i % 250}",
                      "Tag": [{"name": "tlp:red" if red and i == 0 else "tlp:white"}]}
                     for i in range(rnd.choice([1, 3, 10]))]
            s, ev = c.call("POST", "/events/add", {"Event": {"info": f"soak {n}-{seq}", "Attribute": attrs}})
            note("events/add", s, {200}, ev)
            if s != 200:
                continue
            eid = ev["Event"]["id"]
            s, out = c.call("POST", f"/attributes/add/{eid}",
                            {"type": "domain", "value": f"soak-{n}-{seq}.example"})
            note("attributes/add", s, {200}, out)
            if s == 200:
                aid, uuid = out["Attribute"]["id"], out["Attribute"]["uuid"]
                s, out = c.call("POST", f"/attributes/edit/{aid}", {"comment": "edited"})
                note("attributes/edit", s, {200}, out)
                s, out = c.call("POST", "/tags/attachTagToObject", {"uuid": uuid, "tag": "tlp:amber"})
                note("tags/attachTagToObject", s, {200}, out)
                if seq % 3 == 0:
                    s, out = c.call("POST", f"/attributes/delete/{aid}", {})
                    note("attributes/delete", s, {200}, out)
            s, out = c.call("POST", f"/events/publish/{eid}", {})
            # A red event is refused by the blocking gate (400 with the workflow's reason).
            note("events/publish", s, {400} if red else {200}, out)
            s, out = c.call("GET", f"/events/view/{eid}")
            note("events/view", s, {200}, out)
            if seq % 20 == 0:
                s, out = c.call("POST", "/admin/users/add",
                                {"email": f"soak-{n}-{seq}@example.test", "org_id": 1, "role_id": 3,
                                 "password": "a-long-enough-password"})
                note("admin/users/add", s, {200}, out)
            if seq % 10 == 0:
                s, out = c.call("POST", f"/posts/add/event/{eid}", {"message": f"note {seq}"})
                note("posts/add", s, {200}, out)

    samples = []
    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    started = time.time()
    for t in threads:
        t.start()
    backlog = []
    while any(t.is_alive() for t in threads):
        samples.append((round(time.time() - started), rss_kib(server.pid)))
        backlog.append(queued(db_path) if "FLOWGATE_DATABASE_URL" not in os.environ else None)
        time.sleep(args.sample)
    for t in threads:
        t.join()

    # The queue drains: no job left unfinished, none dead.
    unfinished, dead = None, None
    for _ in range(1200):
        s, out = c.call("GET", "/workflows/jobs?limit=1000")
        unfinished = len(out.get("Job", [])) if s == 200 else None
        if unfinished == 0:
            break
        time.sleep(1)
    s, out = c.call("GET", "/workflows/jobs?status=dead&limit=1000")
    dead = len(out.get("Job", [])) if s == 200 else None
    samples.append((round(time.time() - started), rss_kib(server.pid)))
    server.terminate()
    server.wait(timeout=30)

    total = sum(counts.values())
    print(f"soak: {args.minutes} min, {args.clients} clients, {total} requests "
          f"({total / (args.minutes * 60):.0f}/s), {len(errors)} errors")
    for route, n in sorted(counts.items()):
        print(f"  {route:28} {n}")
    print(f"jobs unfinished at the end: {unfinished}, dead: {dead}; webhook deliveries: {Sink.calls}")
    print("jobs waiting at each sample: " + ", ".join(str(b) for b in backlog))
    print("RSS (s, MiB): " + ", ".join(f"{t}:{k / 1024:.1f}" for t, k in samples))
    for e in errors[:20]:
        print("error:", e)
    q = max(1, len(samples) // 4)
    second = statistics.median(k for _, k in samples[q:2 * q]) if len(samples) >= 4 else 0
    last = statistics.median(k for _, k in samples[-q:]) if len(samples) >= 4 else 0
    grew = second and last > second * 1.10
    print(f"RSS median, second quarter {second / 1024:.1f} MiB, last quarter {last / 1024:.1f} MiB")
    shutil.rmtree(work, ignore_errors=True)
    if errors or unfinished != 0 or dead != 0 or grew:
        sys.exit(1)


if __name__ == "__main__":
    main()
