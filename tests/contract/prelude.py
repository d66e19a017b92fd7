"""Seeds what `keel seed` does not make, through the API as an integrator would, so that the
fuzzer's stateful phase finds a group (with members and a session), a webhook subscription and an
organization's own program template to follow links from. Run by tests/contract/fuzz with
KEEL_URL, KEEL_TOKEN (an admin's) and KEEL_BIN (`keel token` mints the coach's token, as an
operator would, with the server's DATABASE_URL and KEEL_DATA_DIR); exits non-zero if any step
fails."""

import datetime
import json
import os
import subprocess
import sys
import urllib.request

URL = os.environ["KEEL_URL"]
TOKEN = os.environ["KEEL_TOKEN"]


def call(method, path, body=None, token=TOKEN):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(URL + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        sys.exit(f"prelude: {method} {path} answered {error.code}: {error.read().decode()[:500]}")


today = datetime.date.today()
organization = call("GET", "/v1/organizations?limit=1")["items"][0]["id"]
people = call("GET", f"/v1/users?organization_id={organization}&limit=200")["items"]
plain = [p for p in people if not p["roles"] and p["status"] == "active"]
hr_partner = next(p["id"] for p in people if "hr_partner" in p["roles"])
coach_user = call("GET", "/v1/users?role=coach&limit=1")["items"][0]
coach = coach_user["id"]
coach_token = subprocess.run(
    [os.environ["KEEL_BIN"], "token", "--email", coach_user["email"], "--ttl", "60m"],
    check=True,
    capture_output=True,
    text=True,
).stdout.strip()
group = call(
    "POST",
    "/v1/groups",
    {
        "organization_id": organization,
        "kind": "cohort",
        "name": "Emerging leaders (fuzzing)",
        "coach_id": coach,
        "sponsor_id": plain[0]["id"],
        "hr_partner_id": hr_partner,
        "start_date": today.isoformat(),
        "planned_end_date": (today + datetime.timedelta(days=180)).isoformat(),
    },
)["id"]
for person in plain[1:4]:
    call("POST", f"/v1/groups/{group}/members", {"user_id": person["id"]})
call(
    "POST",
    f"/v1/groups/{group}/sessions",
    {
        "scheduled_at": (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7)).isoformat(),
        "duration_minutes": 90,
        "format": "video",
    },
    token=coach_token,
)
call(
    "POST",
    "/v1/webhooks",
    {"organization_id": organization, "url": "https://hooks.example.com/keel", "event_types": ["engagement.created"]},
)
call(
    "POST",
    "/v1/program-templates",
    {"organization_id": organization, "name": "Micro coaching (fuzzing)", "copy_from": "00000000-0000-7000-8000-000000000002"},
)
print(f"prelude: a group with 3 members and a session, a webhook and a template in organization {organization}")
