#!/usr/bin/env python3
"""A custom Flowgate module server, in plain Python (standard library only).

It speaks the misp-modules protocol that Flowgate (and MISP) use for action modules:

    GET  /modules  -> the modules it offers, with their parameters
    POST /query    -> runs one: {"module", "data", "params", "filteredItems"?, "matchingData"?}
                      answers {"data": ...} or {"error": "..."}

Register it in Flowgate under Settings, `Plugin.Action_services_extra` (one URL per line), e.g.
`http://127.0.0.1:6790`; its modules then appear in the module index with source `custom`.

Run: python3 examples/custom-module/server.py --port 6790
"""
import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Two modules: an action that files a note (here: kept in memory and printed), and a logic
# module with two outputs (output 1 when the event carries a tag, output 2 otherwise).
MODULES = [
    {
        "name": "note-to-ticket",
        "type": "action",
        "mispattributes": {},
        "meta": {
            "module-type": ["action"],
            "name": "Note to ticket",
            "description": "Files the event's info and a message as a ticket note.",
            "version": "1.0",
            "config": {
                "blocking": False,
                "support_filters": False,
                "expect_misp_core_format": True,
                "params": {
                    "message": {"type": "large_string", "value": "Text of the note", "jinja_supported": True},
                    "queue": {"type": "string", "value": "soc"},
                },
            },
        },
    },
    {
        "name": "has-tag",
        "type": "action",
        "mispattributes": {},
        "meta": {
            "module-type": ["action"],
            "name": "IF :: Has tag (custom)",
            "description": "Output 1 when the event or an attribute carries the tag, else output 2.",
            "version": "1.0",
            "config": {
                "outputs": 2,
                "expect_misp_core_format": True,
                "params": {"tag": {"type": "string", "value": "tlp:red"}},
            },
        },
    },
]

NOTES = []


def has_tag(event, tag):
    names = [t.get("name") for t in event.get("Tag", [])]
    for attribute in event.get("_AttributeFlattened", event.get("Attribute", [])):
        names += [t.get("name") for t in attribute.get("Tag", [])]
    return tag in names


def run(query):
    module = query.get("module")
    params = query.get("params") or {}
    event = (query.get("data") or {}).get("Event") or {}
    if module == "note-to-ticket":
        message = params.get("message", "")
        if not message:
            return {"error": "The note is empty."}
        note = {"queue": params.get("queue") or "soc", "event": event.get("info"), "message": message}
        NOTES.append(note)
        print("note filed:", json.dumps(note), flush=True)
        return {"data": True}
    if module == "has-tag":
        return {"data": has_tag(event, params.get("tag") or "tlp:red")}
    return {"error": f"Unknown module {module!r}."}


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, body):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        if self.path == "/modules":
            self.answer(200, MODULES)
        elif self.path == "/notes":
            self.answer(200, NOTES)
        elif self.path == "/healthcheck":
            self.answer(200, {"status": True})
        else:
            self.answer(404, {"error": "Not found."})

    def do_POST(self):
        if self.path != "/query":
            self.answer(404, {"error": "Not found."})
            return
        length = int(self.headers.get("Content-Length", 0))
        try:
            query = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self.answer(400, {"error": "The query is not JSON."})
            return
        self.answer(200, run(query))

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6790)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"custom modules on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()
