#!/usr/bin/env python3
"""A small schema registry for Rill's tests: the REST calls Rill and
@kafkajs/confluent-schema-registry use, with the status codes and error bodies Confluent's
registry documents (docs.confluent.io, "Schema Registry API Reference").

  POST /subjects/{s}/versions                register -> {"id": n}; 409 incompatible,
                                             422 (42201) invalid schema
  POST /subjects/{s}                         look up -> {"subject","id","version","schema"};
                                             404 40401 subject / 40403 schema not found
  GET  /subjects, /subjects/{s}/versions     lists
  GET  /subjects/{s}/versions/{v|latest}     404 40401 subject / 40402 version not found
  GET  /schemas/ids/{id}                     404 40403 schema not found
  POST /compatibility/subjects/{s}/versions/latest  -> {"is_compatible": bool}
  GET/PUT /config[/{s}]                      compatibility level (BACKWARD by default)

Compatibility (BACKWARD, Avro only): a reader with the new schema must read data written
with the latest one, so every field the new record has that the old one lacks needs a
default, and a field in both keeps its type (int->long, float->double allowed).

Usage: test_registry.py [--port N] [--user user:password]
                        [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM] [--sni-log FILE]]
Listens on 127.0.0.1 (port 0: any free one) and prints the port, one line on stdout, once
it accepts connections. --user requires HTTP basic auth. --tls-cert and --tls-key serve
HTTPS with that certificate (Python's ssl module); --tls-client-ca then requires a client
certificate signed by that CA; --sni-log appends the server name each client sent in its
TLS hello (SNI) to FILE, one line a handshake, "-" for none.
"""
import argparse
import base64
import json
import re
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

CT = "application/vnd.schemaregistry.v1+json"


class Registry:
    def __init__(self):
        self.schemas = []      # id - 1 -> {"schema", "schemaType", "references"}
        self.subjects = {}     # subject -> [id, ...] by version
        self.level = "BACKWARD"

    def id_of(self, s):
        for i, known in enumerate(self.schemas):
            if known == s:
                return i + 1
        return None


def normalize(body):
    s = {"schema": body.get("schema"), "schemaType": body.get("schemaType", "AVRO"),
         "references": body.get("references", [])}
    return s


def avro_fields(text):
    doc = json.loads(text)
    if isinstance(doc, dict) and doc.get("type") == "record":
        return {f["name"]: f for f in doc.get("fields", [])}
    return None


PROMOTIONS = {("int", "long"), ("int", "double"), ("long", "double"), ("float", "double"),
              ("int", "float"), ("long", "float")}


def backward_problem(new, old):
    """Why a reader with `new` cannot read what `old` wrote, or None."""
    if new["schemaType"] != "AVRO" or old["schemaType"] != "AVRO":
        return None
    nf, of = avro_fields(new["schema"]), avro_fields(old["schema"])
    if nf is None or of is None:
        return None
    for name, f in nf.items():
        if name not in of:
            if "default" not in f:
                return f"reader field '{name}' has no default and the writer lacks it"
        else:
            a, b = of[name]["type"], f["type"]
            if a != b and (a, b) not in PROMOTIONS:
                return f"field '{name}' changed type from {json.dumps(a)} to {json.dumps(b)}"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    registry = None
    user = None

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()  # here, in the connection's thread, not in accept()

    def reply(self, status, doc):
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", CT)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, code, message):
        self.reply(status, {"error_code": code, "message": message})

    def authorized(self):
        if self.user is None:
            return True
        expected = "Basic " + base64.b64encode(self.user.encode()).decode()
        if self.headers.get("Authorization") == expected:
            return True
        self.error(401, 401, "Unauthorized")
        return False

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def do_GET(self):
        self.handle_call("GET")

    def do_POST(self):
        self.handle_call("POST")

    def do_PUT(self):
        self.handle_call("PUT")

    def handle_call(self, method):
        body = self.body() if method in ("POST", "PUT") else {}
        if not self.authorized():
            return
        if body is None:
            return self.error(400, 400, "Unrecognized field or malformed JSON")
        path = self.path.split("?")[0]
        r = self.registry
        routes = [
            ("POST", r"/subjects/([^/]+)/versions", self.register),
            ("POST", r"/subjects/([^/]+)", self.lookup),
            ("GET", r"/subjects", self.list_subjects),
            ("GET", r"/subjects/([^/]+)/versions", self.list_versions),
            ("GET", r"/subjects/([^/]+)/versions/([^/]+)", self.version),
            ("GET", r"/schemas/ids/(\d+)", self.by_id),
            ("POST", r"/compatibility/subjects/([^/]+)/versions/([^/]+)", self.compatible),
            ("GET", r"/config(?:/([^/]+))?", self.get_config),
            ("PUT", r"/config(?:/([^/]+))?", self.put_config),
        ]
        for m, pattern, fn in routes:
            match = re.fullmatch(pattern, path)
            if m == method and match:
                args = [unquote(a) if a else a for a in match.groups()]
                return fn(body, *args)
        self.error(404, 404, "HTTP 404 Not Found")

    def check_schema(self, s):
        if not isinstance(s["schema"], str) or not s["schema"].strip():
            return "Empty schema"
        if s["schemaType"] == "AVRO":
            try:
                json.loads(s["schema"])
            except ValueError as e:
                return f"Invalid schema: {e}"
        elif s["schemaType"] == "PROTOBUF":
            if "message" not in s["schema"]:
                return "Invalid schema: no message in the .proto text"
        for ref in s["references"]:
            versions = self.registry.subjects.get(ref.get("subject"), [])
            if not (0 < ref.get("version", 0) <= len(versions)):
                return f"Invalid schema: reference {ref.get('name')} not found"
        return None

    def register(self, body, subject):
        r = self.registry
        s = normalize(body)
        problem = self.check_schema(s)
        if problem:
            return self.error(422, 42201, problem)
        versions = r.subjects.setdefault(subject, [])
        sid = r.id_of(s)
        if sid is not None and sid in versions:
            return self.reply(200, {"id": sid})
        if versions and r.level != "NONE":
            why = backward_problem(s, r.schemas[versions[-1] - 1])
            if why:
                return self.error(409, 409, "Schema being registered is incompatible with an "
                                  f"earlier schema for subject \"{subject}\", details: {why}")
        if sid is None:
            r.schemas.append(s)
            sid = len(r.schemas)
        versions.append(sid)
        self.reply(200, {"id": sid})

    def lookup(self, body, subject):
        r = self.registry
        if subject not in r.subjects:
            return self.error(404, 40401, f"Subject '{subject}' not found.")
        s = normalize(body)
        sid = r.id_of(s)
        if sid is None or sid not in r.subjects[subject]:
            return self.error(404, 40403, "Schema not found")
        v = r.subjects[subject].index(sid) + 1
        self.reply(200, {"subject": subject, "id": sid, "version": v, "schema": s["schema"]})

    def list_subjects(self, body):
        self.reply(200, sorted(self.registry.subjects))

    def list_versions(self, body, subject):
        if subject not in self.registry.subjects:
            return self.error(404, 40401, f"Subject '{subject}' not found.")
        self.reply(200, list(range(1, len(self.registry.subjects[subject]) + 1)))

    def schema_doc(self, sid):
        s = self.registry.schemas[sid - 1]
        doc = {"schema": s["schema"]}
        if s["schemaType"] != "AVRO":
            doc["schemaType"] = s["schemaType"]
        if s["references"]:
            doc["references"] = s["references"]
        return doc

    def version(self, body, subject, v):
        versions = self.registry.subjects.get(subject)
        if not versions:
            return self.error(404, 40401, f"Subject '{subject}' not found.")
        n = len(versions) if v in ("latest", "-1") else (int(v) if v.isdigit() else 0)
        if not 0 < n <= len(versions):
            return self.error(404, 40402, "Version not found.")
        doc = {"subject": subject, "version": n, "id": versions[n - 1]}
        doc.update(self.schema_doc(versions[n - 1]))
        self.reply(200, doc)

    def by_id(self, body, sid):
        sid = int(sid)
        if not 0 < sid <= len(self.registry.schemas):
            return self.error(404, 40403, f"Schema {sid} not found")
        self.reply(200, self.schema_doc(sid))

    def compatible(self, body, subject, v):
        versions = self.registry.subjects.get(subject)
        if not versions:
            return self.error(404, 40401, f"Subject '{subject}' not found.")
        s = normalize(body)
        problem = self.check_schema(s)
        if problem:
            return self.error(422, 42201, problem)
        why = backward_problem(s, self.registry.schemas[versions[-1] - 1])
        self.reply(200, {"is_compatible": why is None})

    def get_config(self, body, subject=None):
        self.reply(200, {"compatibilityLevel": self.registry.level})

    def put_config(self, body, subject=None):
        level = body.get("compatibility", "BACKWARD")
        if level not in ("NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FULL"):
            return self.error(422, 42203, "Invalid compatibility level")
        self.registry.level = level
        self.reply(200, {"compatibility": level})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    tls = None  # an ssl.SSLContext: HTTPS

    def get_request(self):
        sock, address = super().get_request()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request, client_address):
        # A client that refuses the certificate, or has none to show, ends the handshake:
        # that is what the TLS tests check, not a failure of the server.
        if isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):
            return
        super().handle_error(request, client_address)


def tls_context(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.tls_cert, a.tls_key)
    if a.tls_client_ca:
        ctx.load_verify_locations(a.tls_client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    if a.sni_log:
        lock = threading.Lock()

        def log_sni(sock, name, context):
            with lock, open(a.sni_log, "a") as f:
                f.write((name or "-") + "\n")
        ctx.sni_callback = log_sni
    return ctx


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--user")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--tls-client-ca")
    p.add_argument("--sni-log")
    a = p.parse_args()
    Handler.registry = Registry()
    Handler.user = a.user
    Handler.timeout = 30  # a connection that stalls is dropped
    server = Server(("127.0.0.1", a.port), Handler)
    if a.tls_cert:
        server.tls = tls_context(a)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
