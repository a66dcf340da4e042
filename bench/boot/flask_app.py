# The seed's Flask app (a per-client #!ipxe script chosen by the client certificate's fingerprint, with a secret on the
# kernel command line), made comparable to the boot service for the benchmark: same headers, same mapping, same
# script shape, the mapping loaded once at start-up. It does no escaping and no revocation check: it is the baseline.
import json
import os

from flask import Flask, Response, request

app = Flask(__name__)

with open(os.environ["BOOT_MAPPING"], encoding="utf-8") as f:
    MAPPING = json.load(f)  # {"fingerprint": {"name": ..., "script": ...}}


def refuse(reason):
    return Response("#!ipxe\necho refused: %s\nexit 1\n" % reason, status=403, mimetype="text/plain")


@app.route("/boot.ipxe")
@app.route("/ipxe")
@app.route("/ipxe/<mac>")
def ipxe(mac=None):
    if request.headers.get("X-SSL-Client-Verify") != "SUCCESS":
        return refuse("no verified client certificate")
    entry = MAPPING.get(request.headers.get("X-SSL-Client-Fingerprint", "").lower())
    if entry is None:
        return refuse("unknown certificate")
    return Response(entry["script"], mimetype="text/plain")
