"""An independent client of the emulator, written the way Check Point's own
te_api talks to an appliance (Python `requests`, a string part in `files=`).

Usage: python3 te_client.py BASE_URL CA_FILE
Exits 0 when every check holds; prints one line per check.
"""
import base64
import hashlib
import io
import json
import sys
import tarfile
import time

import requests

BASE, CA = sys.argv[1], sys.argv[2]
API = BASE + "/tecloud/api/v1/file/"
session = requests.Session()
# Per-request verify: a session-level one loses to REQUESTS_CA_BUNDLE (requests issue 3829).
session.trust_env = False
session.verify = CA
sent = 0


def post(op, **kwargs):
    global sent
    sent += 1
    return session.post(API + op, timeout=30, **kwargs)


def check(condition, what):
    if not condition:
        print("FAIL " + what)
        sys.exit(1)
    print("ok   " + what)


def query(sha1, features=("te", "te_eb")):
    body = {"request": [{"sha1": sha1, "features": list(features), "te": {"reports": ["summary"]}}]}
    response = post("query", data=json.dumps(body))
    check(response.status_code == 200, "query answers HTTP 200")
    return response.json()["response"][0]


def upload(name, content):
    # As te_api: no digest, no name in the JSON; requests makes it a file-style part.
    request = json.dumps({"request": [{"features": ["te", "te_eb"], "te": {"reports": ["summary"]}}]})
    response = post("upload", files={"request": request, "file": (name, content)})
    check(response.status_code == 200, "upload answers HTTP 200")
    return response.json()["response"][0]


def poll(sha1, until, limit=400):
    seen = []
    for _ in range(limit):
        item = query(sha1)
        seen.append(item["status"]["label"])
        if until(item):
            return item, seen
        time.sleep(0.02)
    check(False, "state reached in time: " + repr(seen[-3:]))


eicar = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode()
sha1 = hashlib.sha1(eicar).hexdigest()

first = query(sha1)
check(first["status"]["code"] == 1004, "unknown file: 1004 NOT_FOUND")

up = upload("eicar.com", eicar)
check(up["status"]["code"] == 1002, "upload: 1002 UPLOAD_SUCCESS")
check(up.get("sha1") == sha1, "upload echoes sha1")
check(up.get("md5") == hashlib.md5(eicar).hexdigest(), "upload echoes md5")
check(up.get("sha256") == hashlib.sha256(eicar).hexdigest(), "upload echoes sha256")

early, seen = poll(sha1, lambda i: i.get("te_eb", {}).get("status", {}).get("label") == "FOUND")
check(early["te_eb"]["combined_verdict"] == "Malicious", "te_eb early verdict: Malicious")
check("PENDING" in seen or "PARTIALLY_FOUND" in seen, "pending before found: " + ",".join(seen[:3]))
final, seen = poll(sha1, lambda i: i["status"]["label"] == "FOUND")
check(final["te"]["combined_verdict"] == "Malicious", "te FOUND Malicious")
report_id = final["te"].get("summary_report")
check(bool(report_id), "summary_report id present")

download = session.get(API + "download", params={"id": report_id}, timeout=30)
sent += 1
check(download.status_code == 200, "download answers HTTP 200")
check(download.headers["content-disposition"].startswith("attachment; filename="),
      "download has Content-Disposition")
archive = tarfile.open(fileobj=io.BytesIO(base64.b64decode(download.text)), mode="r:gz")
names = archive.getnames()
check("report.html" in names, "report archive holds report.html")
html = archive.extractfile("report.html").read()
check(len(html) > 8192, "report.html is larger than 8 KiB (%d bytes)" % len(html))

benign = b"quarterly numbers, nothing active\n" * 50
benign_sha1 = hashlib.sha1(benign).hexdigest()
check(upload("q3.docx", benign)["status"]["code"] == 1002, "benign upload accepted")
final, _ = poll(benign_sha1, lambda i: i["status"]["label"] == "FOUND")
check(final["te"]["combined_verdict"] == "Benign", "benign file ends FOUND Benign")
check(final["te_eb"]["status"]["label"] == "FOUND", "te_eb FOUND once te is FOUND")

unsupported = upload("fw.bin", b"TE-EMULATOR-UNSUPPORTED")
check(unsupported["status"]["code"] == 1007, "unsupported content: 1007")

batch = [{"md5": hashlib.md5(b"file %d" % i).hexdigest(), "features": ["te"]} for i in range(58)]
batch.append({"md5": hashlib.md5(eicar).hexdigest(), "features": ["te"]})
batch.append({"md5": hashlib.md5(benign).hexdigest(), "features": ["te"]})
answer = post("query", data=json.dumps({"request": batch})).json()["response"]
check(len(answer) == 60, "60-item batch answers 60 items")
check([a["md5"] for a in answer] == [b["md5"] for b in batch], "batch answers keyed by md5, in order")
check(answer[58]["status"]["code"] == 1001 and answer[0]["status"]["code"] == 1004, "mixed states")

broken = post("query", data="{not json")
body = {}
try:
    body = broken.json()
except ValueError:
    pass
code = body.get("response", {}).get("status", {}).get("code") if isinstance(body.get("response"), dict) else None
check(broken.status_code == 400 or code == 1008, "malformed JSON: HTTP 400 / 1008")
check(query(sha1)["status"]["code"] == 1001, "server still serving after malformed JSON")

stats = session.get(BASE + "/__emulator/stats", timeout=30).json()
check(stats["http_requests"] == sent, "stats http_requests = %d requests sent" % sent)
check(stats["uploads"] == 3, "stats uploads = 3")
check(stats["upload_bytes"] == len(eicar) + len(benign) + len(b"TE-EMULATOR-UNSUPPORTED"),
      "stats upload_bytes = file bytes")
check(stats["downloads"] == 1, "stats downloads = 1")
check(stats["query_items"] >= 60, "stats query_items counts batch items")
print("all checks passed")
