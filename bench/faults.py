#!/usr/bin/env python3
"""Keel under faults, measured. Run it through `bench/faults` (see README "Performance").

Scenarios (each prints PASS/FAIL with its figures; bench/results/faults-latest.md gets them all):

  pg-restart  PostgreSQL stopped (fast, then immediate mode) and started under a mixed read/write
              load: only 2xx or 503 with Retry-After (no 500, no dropped connection), /readyz says
              503 while it is down, Keel recovers without a restart, every acknowledged write is
              in the database afterwards.
  sigkill     Keel killed with SIGKILL under a write load that queues webhook deliveries to a
              receiver this script runs, then started again: every acknowledged write is there,
              nothing is half written (each engagement with its transition, audit record, event,
              delivery and outbox message, or none of them), and every queued delivery reaches the
              receiver (distinct event ids and duplicates counted). Messages the killed instance
              had claimed wait for their lease (120 s) to run out; that wait is spent running the
              next scenarios, and this one is reported last.
  sigterm     SIGTERM under load, with slow uploads in flight at the signal: the requests in
              flight finish within the grace period (KEEL_SHUTDOWN_TIMEOUT_SECS), the process exits
              within it, acknowledged writes are there.
  sqlite      SQLite with 1 .. 2x pool size concurrent writers: no 500 ("database is locked"
              or any other), every acknowledged write is there.
  slow        Slow and abandoned clients on loopback (half a request then silence, a connection
              and nothing, a body trickled byte by byte, responses read very slowly): normal
              requests meanwhile answer as before (p50/p99 before and during the attack).

The binary comes from KEEL_BIN; without it the release build is made (cargo build --release -p
keel) and target/release/keel is used.
"""

import argparse
import base64
import collections
import datetime
import glob
import hashlib
import hmac
import http.client
import http.server
import itertools
import json
import math
import os
import platform
import pwd
import random
import re
import selectors
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results")
SCENARIOS = ["pg-restart", "sigkill", "sigterm", "sqlite", "slow"]
ADMIN = "faults-admin@keel.example"
#: Keel's delivery lease (crates/keel/src/delivery.rs, `LEASE`): what a killed instance had
#: claimed is delivered again once it has run out.
LEASE_SECS = 120

STARTED = time.monotonic()
RUN_TAG = datetime.datetime.now().strftime("%H%M%S")
REQUEST_IDS = itertools.count(1)


def now():
    return time.monotonic()


def log(message):
    print(f"[faults {time.strftime('%H:%M:%S')} +{now() - STARTED:5.1f}s] {message}", flush=True)


def run(cmd, env=None, check=True, timeout=120):
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keel_binary():
    path = os.environ.get("KEEL_BIN")
    if path:
        return os.path.abspath(path)
    log("KEEL_BIN is not set: building the release binary (cargo build --release -p keel -q)")
    subprocess.run(["cargo", "build", "--release", "-p", "keel", "-q"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release", "keel")


def pct(values, p):
    """The p-th percentile (nearest rank) of `values`, in the values' unit; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


# --------------------------------------------------------------------------------------------
# HTTP


class Result:
    """One request: what was sent, when (monotonic seconds), and what came back."""

    __slots__ = ("kind", "method", "path", "marker", "t0", "t1", "status", "retry_after", "body", "error", "id", "replayed")

    def __init__(self, kind, method, path, marker, t0):
        self.kind, self.method, self.path, self.marker, self.t0 = kind, method, path, marker, t0
        self.id = f"faults-{RUN_TAG}-{next(REQUEST_IDS)}"  # sent as X-Request-Id: Keel logs it
        self.t1 = None
        self.status = self.retry_after = self.body = self.error = self.replayed = None

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300

    @property
    def ms(self):
        return (self.t1 - self.t0) * 1000

    def json(self):
        return json.loads(self.body)


def classify(r):
    if r.status is None:
        return "transport error"
    if 200 <= r.status < 300:
        return "2xx"
    if r.status == 503:
        return "503 with Retry-After" if r.retry_after else "503 without Retry-After"
    return str(r.status)


def request(port, method, path, token=None, body=None, kind="", marker=None, timeout=30, headers=None):
    """One request on a connection of its own (a reused idle connection the server has closed
    would fail for reasons that are not the fault under test)."""
    r = Result(kind, method, path, marker, now())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        h = dict(headers or {}, **{"X-Request-Id": r.id})
        if token:
            h["Authorization"] = f"Bearer {token}"
        if data is not None:
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        response = conn.getresponse()
        r.body = response.read()
        r.status, r.retry_after = response.status, response.getheader("Retry-After")
        r.replayed = response.getheader("Idempotent-Replayed")
    except (OSError, http.client.HTTPException) as e:
        r.error = f"{type(e).__name__}: {e}"
    finally:
        r.t1 = now()
        conn.close()
    return r


def split_post(port, path, token, body, pause, where, kind, marker=None, timeout=60):
    """A POST sent in two parts `pause` seconds apart: `where` = "body" (half the body, then the
    rest: a slow upload) or "head" (half the request head, then the rest and the body)."""
    r = Result(kind, "POST", path, marker, now())
    data = json.dumps(body).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"X-Request-Id: {r.id}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode()
    whole = head + data
    cut = len(head) + len(data) // 2 if where == "body" else len(head) // 2
    sock = None
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        sock.sendall(whole[:cut])
        time.sleep(pause)
        sock.sendall(whole[cut:])
        response = http.client.HTTPResponse(sock, method="POST")
        response.begin()
        r.body = response.read()
        r.status, r.retry_after = response.status, response.getheader("Retry-After")
    except (OSError, http.client.HTTPException) as e:
        r.error = f"{type(e).__name__}: {e}"
    finally:
        r.t1 = now()
        if sock:
            sock.close()
    return r


class KeepAlive:
    """A client on one persistent connection, as a proxy or an SDK keeps it; after a failure it
    opens a new one (the failed request is not repeated)."""

    def __init__(self, port, token):
        self.port, self.token, self.conn = port, token, None

    def request(self, method, path, body, kind, marker):
        r = Result(kind, method, path, marker, now())
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            headers = {"Authorization": f"Bearer {self.token}", "X-Request-Id": r.id}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            r.body = response.read()
            r.status, r.retry_after = response.status, response.getheader("Retry-After")
            if response.will_close:
                self.conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException) as e:
            r.error = f"{type(e).__name__}: {e}"
            if self.conn:
                self.conn.close()
            self.conn = None
        finally:
            r.t1 = now()
        return r


class Load:
    """`clients` threads, each sending one request after another: `make(client, seq)` returns
    (kind, method, path, body, marker), or a callable that sends a request itself."""

    def __init__(self, port, token, clients, make, stagger=0.0):
        self.port, self.token, self.clients, self.make, self.stagger = port, token, clients, make, stagger
        self.results = []
        self.stopping = threading.Event()
        self.threads = []

    def start(self):
        for i in range(self.clients):
            t = threading.Thread(target=self._run, args=(i,), daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def _run(self, i):
        if self.stagger:
            time.sleep(i * self.stagger)
        seq = 0
        while not self.stopping.is_set():
            spec = self.make(i, seq)
            seq += 1
            if callable(spec):
                r = spec()
            else:
                kind, method, path, body, marker, *headers = spec
                r = request(self.port, method, path, self.token, body, kind, marker,
                            headers=headers[0] if headers else None)
            self.results.append(r)
            if r.status is None:
                time.sleep(0.05)  # the server is down: no busy loop

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(90)


class Poller:
    """GET `path` every `every` seconds (its own thread), each result kept."""

    def __init__(self, port, path="/readyz", every=0.25):
        self.port, self.path, self.every = port, path, every
        self.results = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _run(self):
        while not self.stopping.is_set():
            self.results.append(request(self.port, "GET", self.path, kind="readyz", timeout=15))
            self.stopping.wait(self.every)

    def stop(self):
        self.stopping.set()
        self.thread.join(30)


def tally(results):
    return collections.Counter(classify(r) for r in results)


def tally_text(counter):
    order = ["2xx", "503 with Retry-After", "503 without Retry-After", "500", "transport error"]
    keys = [k for k in order if counter.get(k)] + sorted(k for k in counter if k not in order)
    return ", ".join(f"{k}: {counter[k]}" for k in keys) or "none"


def bad_statuses(counter, allowed=("2xx", "503 with Retry-After")):
    return {k: v for k, v in counter.items() if k not in allowed}


# --------------------------------------------------------------------------------------------
# PostgreSQL (private cluster) and Keel


class PrivatePostgres:
    """A PostgreSQL cluster of this script's own (temporary directory, free port), so that it can
    be stopped and started at will without touching anyone else's server."""

    def __init__(self):
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                            key=lambda p: int(re.search(r"/(\d+)/bin", p).group(1)))
        bindir = os.environ.get("FAULTS_PG_BINDIR") or (os.path.dirname(candidates[-1]) if candidates else "")
        if not bindir or not os.path.exists(os.path.join(bindir, "pg_ctl")):
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found; set FAULTS_PG_BINDIR")
        self.bindir = bindir
        self.dir = tempfile.mkdtemp(prefix="keel-faults-pg-")
        self.as_user = []
        if os.geteuid() == 0:  # initdb and pg_ctl refuse root
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        os.chmod(self.dir, 0o700)
        self.data = os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "postgres.log")
        self.port = free_port()
        self.running = False

    def _ctl(self, *args, check=True, timeout=60):
        return run(self.as_user + [os.path.join(self.bindir, args[0]), *args[1:]], check=check, timeout=timeout)

    def init(self):
        self._ctl("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
                  "--no-sync")
        return self

    def start(self):
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=80 "
                   f"-c shared_buffers=32MB -c log_min_messages=warning")
        self._ctl("pg_ctl", "-D", self.data, "-l", self.logfile, "-w", "-t", "60", "-o", options, "start")
        self.running = True

    def stop(self, mode="fast"):
        self._ctl("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def version(self):
        return self.psql("postgres", "SHOW server_version")[0][0]

    def url(self, database):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, database, sql):
        out = run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-X", "-A",
                   "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql]).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def create_database(self, name):
        self.psql("postgres", f'DROP DATABASE IF EXISTS "{name}"')
        self.psql("postgres", f'CREATE DATABASE "{name}"')

    def destroy(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._ctl("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "-t", "30", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class Keel:
    """A Keel server (`keel serve`) with its own data directory and port; its stderr and stdout
    go to `<dir>/keel.log` (every start appends to it)."""

    def __init__(self, ctx, label, database_url, env=None):
        self.ctx, self.label = ctx, label
        self.dir = os.path.join(ctx.work, label)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.env = dict(
            os.environ,
            DATABASE_URL=database_url,
            KEEL_DATA_DIR=os.path.join(self.dir, "data"),
            KEEL_BIND=f"127.0.0.1:{self.port}",
            KEEL_LOG_LEVEL="info",
            KEEL_LOG_FORMAT="text",
            KEEL_API_RATE_PER_MINUTE="100000000",
        )
        self.env.pop("RUST_LOG", None)
        self.env.pop("KEEL_BIN", None)  # the script's setting, not Keel's
        self.env.update(env or {})
        self.log_path = os.path.join(self.dir, "keel.log")
        self.process = None
        ctx.keels.append(self)

    def cli(self, *args):
        return run([self.ctx.binary, *args], env=self.env).stdout.strip()

    def admin_token(self):
        """An admin's token, made as an operator would: `keel bootstrap-admin` and `keel token`."""
        self.cli("bootstrap-admin", "--email", ADMIN, "--name", "Faults Admin")
        return self.cli("token", "--email", ADMIN, "--ttl", "30m")

    def start(self, wait=True):
        with open(self.log_path, "a") as f:
            f.write(f"===== faults: keel serve started at +{now() - STARTED:.1f}s =====\n")
        self.logfile = open(self.log_path, "a")
        self.process = subprocess.Popen([self.ctx.binary, "serve"], env=self.env, stdout=self.logfile,
                                        stderr=subprocess.STDOUT)
        if wait:
            return self.wait_ready()
        return None

    def wait_ready(self, timeout=60):
        started = now()
        while now() - started < timeout:
            r = request(self.port, "GET", "/readyz", timeout=5)
            if r.status == 200:
                return now() - started
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"Keel ({self.label}) did not become ready; see {self.log_path}")

    def signal(self, sig):
        self.process.send_signal(sig)

    def wait_exit(self, timeout):
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def rss_mib(self):
        try:
            with open(f"/proc/{self.process.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            if self.wait_exit(40) is None:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.logfile.close()

    def log_lines(self, pattern):
        with open(self.log_path, errors="replace") as f:
            return [line.rstrip("\n") for line in f if re.search(pattern, line)]

    def server_errors(self):
        """Log lines of 5xx answers other than 503, panics, and ERROR events other than the log
        line of a 503 answer."""
        return [line for line in self.log_lines(r"status=5\d\d|panicked| ERROR ")
                if "status=503" not in line]

    def api(self, method, path, token, body=None):
        r = request(self.port, method, path, token, body)
        if not r.ok:
            raise RuntimeError(f"{method} {path} answered {r.status or r.error}: {(r.body or b'')[:300]!r}")
        return r.json() if r.body else None


def evidence(keel, lines=6):
    """Log lines worth quoting when a scenario fails: errors and 5xx answers other than 503."""
    found = keel.server_errors()
    return found[:lines], len(found)


# --------------------------------------------------------------------------------------------
# Scenario bookkeeping


class Outcome:
    def __init__(self, name, title):
        self.name, self.title = name, title
        self.figures = []  # Markdown bullet lines (plain text)
        self.failures = []
        self.notes = []
        self.seconds = 0.0

    def fig(self, text):
        self.figures.append(text)
        log(f"  {text}")

    def check(self, ok, text):
        if not ok:
            self.failures.append(text)
            log(f"  FAIL: {text}")
        return ok

    def note(self, text):
        self.notes.append(text)
        log(f"  note: {text}")

    @property
    def passed(self):
        return not self.failures

    def quote_log(self, keel):
        lines, count = evidence(keel)
        if count:
            self.note(f"{count} server log lines with ERROR / 5xx (not 503) / panic; first ones:")
            for line in lines:
                self.notes.append("    " + line[:400])


class Context:
    def __init__(self, args):
        self.args = args
        self.binary = keel_binary()
        self.work = tempfile.mkdtemp(prefix="keel-faults-")
        self.keels = []
        self.pg = None
        self.run_id = datetime.datetime.now().strftime("%H%M%S")

    def postgres(self):
        if self.pg is None:
            log("initdb + start of a private PostgreSQL cluster")
            self.pg = PrivatePostgres().init()
            self.pg.start()
            log(f"private PostgreSQL {self.pg.version()} on port {self.pg.port} in {self.pg.dir}")
        return self.pg

    def cleanup(self, keep):
        for keel in self.keels:
            try:
                keel.stop()
            except Exception as e:  # noqa: BLE001 - cleanup goes on
                log(f"cleanup: {e}")
        if self.pg:
            if keep:
                shutil.copy(self.pg.logfile, os.path.join(self.work, "postgres.log"))
            self.pg.destroy()
        if not keep:
            shutil.rmtree(self.work, ignore_errors=True)


def create_organization(keel, token, name):
    return keel.api("POST", "/v1/organizations", token, {"name": name})["id"]


def written_names(results, kinds=("write",)):
    """Markers of the writes answered 2xx, and of those answered otherwise (outcome unknown)."""
    acked = {r.marker for r in results if r.kind in kinds and r.ok}
    unknown = {r.marker for r in results if r.kind in kinds and not r.ok}
    return acked, unknown


def check_writes(outcome, acked, unknown, found):
    missing = acked - found
    outcome.fig(f"acknowledged writes: {len(acked)} checked, {len(acked & found)} found in the database, "
                f"{len(missing)} missing; writes without a 2xx: {len(unknown)} ({len(unknown & found)} of them "
                f"committed anyway)")
    outcome.check(not missing, f"{len(missing)} acknowledged writes missing from the database, e.g. "
                               f"{sorted(missing)[:3]}")


def retry_writes(outcome, keel, token, failed, path, body_of, pg=None, database=None):
    """What a client does with a write that got a 503 (or no answer): the same request again with
    the same Idempotency-Key, honouring a 409's Retry-After up to 3 times. Every retry must end in
    a 2xx (a replay, or the first run of a request that had not run). Returns the final results."""
    finals, waits, first = [], collections.Counter(), {}
    for r in failed:
        first[r.marker] = r
        for attempt in range(4):
            final = request(keel.port, "POST", path, token, body_of(r.marker), "retry", r.marker,
                            headers={"Idempotency-Key": r.marker})
            if final.status != 409 or attempt == 3:
                break
            waits[r.marker] += 1
            time.sleep(float(final.retry_after or 1))
        finals.append(final)
    stuck = [f for f in finals if f.status == 409]
    replayed = sum(1 for f in finals if f.replayed)
    outcome.fig(f"retried with the same Idempotency-Key once Keel was back: {len(finals)} writes not answered 2xx: "
                f"{tally_text(tally(finals))} ({replayed} replayed; {len(waits)} first answered 409 and were "
                f"retried after its Retry-After)")
    if stuck:
        evidence_text = ""
        if pg:
            keys = ", ".join(f"'{f.marker}'" for f in stuck)
            rows = pg.psql(database, f"SELECT key, status IS NULL, created_at, expires_at FROM idempotency_keys "
                                     f"WHERE key IN ({keys})")
            if rows:
                k, open_, created, expires = rows[0]
                evidence_text = (f"; in the database the key {k} is still claimed (status NULL: {open_ == 't'}), "
                                 f"created {created}, expires {expires}")
        body = (stuck[0].body or b"")[:200].decode(errors="replace")
        original = first[stuck[0].marker]
        lines = [line for line in keel.log_lines(re.escape(original.id)) if " INFO " not in line]
        outcome.note(f"first attempt of {stuck[0].marker} (X-Request-Id {original.id}): {original.status or original.error}; "
                     + (f"server log: " + " / ".join(re.sub(r"^\S+\s+", "", line)[:260] for line in lines[-3:])
                        if lines else "no server log line (the process was killed before it logged the request)"))
        outcome.check(False, f"{len(stuck)} retries still answered 409 after 3 waits of Retry-After: the first "
                             f"attempt's Idempotency-Key stays claimed, so the write cannot be retried until the key "
                             f"expires (24 h){evidence_text}; answer: {body}")
    outcome.check(all(f.ok or f.status == 409 for f in finals), f"retries failed: {tally_text(tally(finals))}")
    return finals


# --------------------------------------------------------------------------------------------
# 1. PostgreSQL stopped and started under load


def scenario_pg_restart(ctx):
    out = Outcome("pg-restart", "PostgreSQL stopped and started under a mixed read/write load")
    pg = ctx.postgres()
    database = "keel_faults_pgstop"
    pg.create_database(database)
    keel = Keel(ctx, "pg-restart", pg.url(database))
    token = keel.admin_token()
    keel.start()
    orgs = [create_organization(keel, token, f"seed-{i}") for i in range(10)]
    prefix = f"pgstop-{ctx.run_id}"

    def make(i, seq):
        k = seq % 4
        if k in (0, 2):  # a write with an Idempotency-Key, so that it can be retried safely
            name = f"{prefix}-{i}-{seq}"
            return "write", "POST", "/v1/organizations", {"name": name}, name, {"Idempotency-Key": name}
        if k == 1:
            return "read", "GET", f"/v1/organizations/{random.choice(orgs)}", None, None
        return "read", "GET", "/v1/organizations?limit=20", None, None

    load = Load(keel.port, token, ctx.args.clients, make).start()
    ready = Poller(keel.port).start()
    cycles = []
    for mode in ("fast", "immediate"):
        time.sleep(4)
        log(f"pg-restart: stopping PostgreSQL (-m {mode}) for {ctx.args.outage}s")
        t_stop = now()
        pg.stop(mode)
        t_down = now()
        time.sleep(ctx.args.outage)
        t_start = now()
        pg.start()
        t_up = now()
        log(f"pg-restart: PostgreSQL accepting connections again (start took {t_up - t_start:.1f}s)")
        api_back = ready_back = None
        deadline = t_up + 30
        while now() < deadline and (api_back is None or ready_back is None):
            time.sleep(0.1)
            done = [r.t1 for r in list(load.results) if r.ok and r.t1 > t_up]
            api_back = min(done) if done else None
            back = [r.t1 for r in list(ready.results) if r.status == 200 and r.t1 > t_up]
            ready_back = min(back) if back else None
        time.sleep(4)
        cycles.append(dict(mode=mode, t_stop=t_stop, t_down=t_down, t_up=t_up, api_back=api_back,
                           ready_back=ready_back, t_end=now()))
    load.stop()
    ready.stop()
    out.check(keel.process.poll() is None, f"Keel exited during the outages (status {keel.process.poll()})")
    if keel.process.poll() is None:
        out.fig(f"Keel served throughout without a restart (one process, pid {keel.process.pid})")

    results = load.results
    counts = tally(results)
    out.fig(f"Keel: {ctx.args.clients} clients (half writes: POST /v1/organizations; half reads), "
            f"db_acquire_timeout 5 s (default); PostgreSQL down {ctx.args.outage} s per cycle")
    retry_after = sorted({r.retry_after for r in results if r.status == 503})
    problems = 0
    for r in results:
        if r.status == 503:
            try:
                doc = r.json()
                problems += doc.get("status") == 503 and doc.get("code") == "database_unavailable"
            except ValueError:
                pass
    out.fig(f"requests sent: {len(results)}; {tally_text(counts)} (Retry-After values: {', '.join(retry_after)}; "
            f"{problems} of the 503s are problem documents with code database_unavailable)")
    bad = bad_statuses(counts)
    out.check(not bad, f"answers other than 2xx / 503 with Retry-After: {bad}")
    for c in cycles:
        label = f"cycle `-m {c['mode']}`"
        during = [r for r in results if c["t_down"] <= r.t0 < c["t_up"]]
        # /readyz by when it answered: 503 while PostgreSQL was down, 200 once it was back.
        rd = [r for r in ready.results if c["t_down"] <= r.t1 < c["t_up"]]
        rd_slowest = max((r.t1 - r.t0 for r in ready.results if c["t_down"] <= r.t1 < c["t_up"] + 5), default=0)
        first_503 = min((r.t1 for r in ready.results if r.status == 503 and r.t1 > c["t_down"]), default=None)
        api_s = c["api_back"] - c["t_up"] if c["api_back"] else None
        ready_s = c["ready_back"] - c["t_up"] if c["ready_back"] else None
        steady = [r for r in results if c["api_back"] and c["api_back"] + 2 <= r.t0 < c["t_end"]]
        steady_bad = [r for r in steady if not r.ok]
        waits = [r.ms for r in during if r.status == 503]
        out.fig(f"{label}: sent while PostgreSQL was down: {len(during)} ({tally_text(tally(during))}; 503 after "
                f"{pct(waits, 50) / 1000:.1f} s median, {max(waits, default=0) / 1000:.1f} s max)")
        out.fig(f"{label}: /readyz answers while down: {tally_text(tally(rd))}; first 503 "
                + (f"{first_503 - c['t_down']:.1f} s after PostgreSQL stopped" if first_503 else "never")
                + f"; slowest /readyz answer {rd_slowest:.1f} s")
        out.fig(f"{label}: recovery once PostgreSQL was back: first 2xx API answer "
                f"{'%.2f s' % api_s if api_s is not None else 'never (30 s)'}, /readyz 200 "
                f"{'%.2f s' % ready_s if ready_s is not None else 'never (30 s)'}; from 2 s after recovery "
                f"{len(steady)} requests, {len(steady_bad)} not 2xx")
        out.check(first_503 is not None and first_503 < c["t_up"] and all(r.status == 503 for r in rd),
                  f"-m {c['mode']}: /readyz did not answer 503 while PostgreSQL was down ({tally_text(tally(rd))})")
        if rd_slowest > 2.5:
            out.note(f"-m {c['mode']}: /readyz took up to {rd_slowest:.1f} s to answer during the outage (its ping "
                     f"waits for a blocking thread behind requests that wait db_acquire_timeout for a connection): "
                     f"a readiness probe with a shorter timeout sees a timeout, not the 503")
        out.check(api_s is not None and ready_s is not None,
                  f"-m {c['mode']}: Keel did not recover within 30 s of PostgreSQL's return")
        out.check(not steady_bad, f"-m {c['mode']}: {len(steady_bad)} failures after recovery "
                                  f"({tally_text(tally(steady_bad))})")
    acked, unknown = written_names(load.results)
    found = {row[0] for row in pg.psql(database, f"SELECT name FROM organizations WHERE name LIKE '{prefix}-%'")}
    check_writes(out, acked, unknown, found)
    for r in [r for r in load.results if r.kind == "write" and not r.ok and r.marker in found]:
        lines = keel.log_lines(re.escape(r.id))
        out.note(f"a write answered {r.status or r.error} was committed (its connection was lost around COMMIT, so "
                 f"Keel could not know): " + (lines[-1][:300] if lines else f"request {r.id} not in the log"))
    failed_writes = [r for r in load.results if r.kind == "write" and not r.ok]
    retry_writes(out, keel, token, failed_writes, "/v1/organizations", lambda name: {"name": name}, pg, database)
    copies = dict(pg.psql(database, f"SELECT name, count(*) FROM organizations WHERE name LIKE '{prefix}-%' "
                                    f"GROUP BY name HAVING count(*) > 1"))
    out.fig(f"organizations written twice after the retries: {len(copies)}")
    out.check(not copies, f"{len(copies)} writes answered 503 and retried with the same Idempotency-Key exist twice: "
                          f"{sorted(copies)[:3]} (the first attempt had committed; a 5xx answer is not kept under "
                          f"the key, so the retry ran again)")
    keel.stop()
    unavailable = keel.log_lines(r"database unavailable")
    out.fig(f"server log: {len(unavailable)} `database unavailable` warnings; "
            f"{len(keel.server_errors())} ERROR / 5xx-other-than-503 / panic lines")
    if not out.passed:
        out.quote_log(keel)
    return out


# --------------------------------------------------------------------------------------------
# 2. SIGKILL under write load, with webhook deliveries queued


class Receiver:
    """A webhook receiver on loopback: answers 204 and keeps what it got (delivery id, event id,
    engagement, whether the signature verifies)."""

    def __init__(self):
        self.received = []
        self.secret = None
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    event = json.loads(body)
                except ValueError:
                    event = {}
                receiver.received.append({
                    "t": now(),
                    "webhook_id": self.headers.get("webhook-id"),
                    "event_id": event.get("id"),
                    "type": event.get("type"),
                    "engagement_id": (event.get("data") or {}).get("engagement_id"),
                    "signature_ok": receiver.verify(self.headers, body),
                })
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                receiver.cut += 1  # a delivery cut off mid-request (its sender was killed)

        self.cut = 0
        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verify(self, headers, body):
        if not self.secret:
            return False
        msg_id, ts = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
        return any(hmac.compare_digest(sig.removeprefix("v1,"), expected)
                   for sig in headers.get("webhook-signature", "").split(" "))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def engagement_setup(ctx, keel, token, receiver, tag):
    """An organization with an HR partner, a leader and a sponsor, a coach, and a webhook
    subscription of the organization to `engagement.created` at the receiver."""
    org = create_organization(keel, token, f"{tag.title()} Corp")

    def user(role, roles, organization=True):
        body = {"email": f"{role}-{ctx.run_id}@{tag}.example", "name": role.title(), "roles": roles}
        if organization:
            body["organization_id"] = org
        return keel.api("POST", "/v1/users", token, body)["id"]

    user("hr", ["hr_partner"])
    people = {"coach": user("coach", ["coach"], organization=False), "leader": user("leader", []),
              "sponsor": user("sponsor", [])}
    hook = keel.api("POST", "/v1/webhooks", token, {
        "url": f"http://127.0.0.1:{receiver.port}/keel/events", "event_types": ["engagement.created"],
        "organization_id": org})
    receiver.secret = hook["secret"]
    return org, people


def engagement_body(org, people, title):
    return {"organization_id": org, "title": title, "leader_id": people["leader"], "coach_id": people["coach"],
            "sponsor_ids": [people["sponsor"]], "start_date": datetime.date.today().isoformat()}


def scenario_sigkill(ctx):
    """Runs the load and the kill; returns (outcome, finish): `finish()` waits for the deliveries
    the killed instance had claimed (their lease) and completes the outcome."""
    out = Outcome("sigkill", "Keel killed with SIGKILL under write load, then started again")
    pg = ctx.postgres()
    database = "keel_faults_kill"
    pg.create_database(database)
    receiver = Receiver()
    keel = Keel(ctx, "sigkill", pg.url(database), env={"KEEL_WEBHOOK_ALLOW_INTERNAL": "true"})
    token = keel.admin_token()
    keel.start()
    org, people = engagement_setup(ctx, keel, token, receiver, "kill")
    prefix = f"kill-{ctx.run_id}"

    def make(i, seq):
        title = f"{prefix}-{i}-{seq}"
        return ("write", "POST", "/v1/engagements", engagement_body(org, people, title), title,
                {"Idempotency-Key": title})

    load = Load(keel.port, token, ctx.args.clients, make).start()
    time.sleep(6)
    log("sigkill: SIGKILL")
    t_kill = now()
    keel.signal(signal.SIGKILL)
    code = keel.wait_exit(10)
    # What the killed instance had claimed and not recorded: it waits for its lease to run out.
    held = pg.psql(database, "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL "
                             "AND locked_until > (now() AT TIME ZONE 'UTC')")[0][0]
    pending = pg.psql(database, "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL")[0][0]
    received_at_kill = len(receiver.received)
    time.sleep(max(0.0, 0.5 - (now() - t_kill)))
    t_restart = now()
    keel.start(wait=False)
    ready_after = keel.wait_ready()
    t_ready = now()
    log(f"sigkill: restarted, ready {t_ready - t_restart:.2f}s after the start")
    time.sleep(5)
    load.stop()

    results = load.results
    counts = tally(results)
    in_flight = [r for r in results if r.t0 <= t_kill and (r.t1 is None or r.t1 >= t_kill)]
    before = [r for r in results if r.t1 < t_kill]
    down = [r for r in results if t_kill <= r.t0 and r.t1 < t_ready and r not in in_flight]
    after = [r for r in results if r.t0 >= t_ready]
    out.fig(f"load: {ctx.args.clients} clients creating engagements (POST /v1/engagements; each queues an "
            f"`engagement.created` webhook to a receiver on loopback); SIGKILL after 6 s (exit status {code}), "
            f"started again 0.5 s later, ready in {ready_after:.2f} s, then 5 s more load")
    out.fig(f"requests sent: {len(results)}; {tally_text(counts)}")
    out.fig(f"before the kill: {len(before)} ({tally_text(tally(before))}); in flight at the kill: {len(in_flight)} "
            f"({tally_text(tally(in_flight))}); while down: {len(down)} ({tally_text(tally(down))}); after the "
            f"restart: {len(after)} ({tally_text(tally(after))})")
    out.check(not bad_statuses(tally(before + after)),
              f"answers other than 2xx while Keel was up: {tally_text(tally(before + after))}")
    out.check(not [r for r in before + after if not r.ok],
              f"{len([r for r in before + after if not r.ok])} failed requests while Keel was up")

    acked, unknown = written_names(load.results)
    rows = pg.psql(database, f"""
        SELECT e.title,
          (SELECT count(*) FROM engagement_transitions t WHERE t.engagement_id = e.id),
          (SELECT count(*) FROM audit_events a WHERE a.resource_id = e.id AND a.action = 'engagement.created'),
          (SELECT count(*) FROM events v WHERE v.engagement_id = e.id AND v.event_type = 'engagement.created'),
          (SELECT count(*) FROM webhook_deliveries d WHERE d.engagement_id = e.id),
          (SELECT count(*) FROM webhook_deliveries d JOIN outbox o ON o.payload LIKE '%' || d.id || '%'
            WHERE d.engagement_id = e.id)
        FROM engagements e WHERE e.title LIKE '{prefix}-%'""")
    found = {r[0] for r in rows}
    check_writes(out, acked, unknown, found)
    partial = [r for r in rows if r[1:] != ["1", "1", "1", "1", "1"]]
    orphans = pg.psql(database, """
        SELECT (SELECT count(*) FROM audit_events a WHERE a.action = 'engagement.created'
                  AND NOT EXISTS (SELECT 1 FROM engagements e WHERE e.id = a.resource_id)),
               (SELECT count(*) FROM events v WHERE v.event_type = 'engagement.created'
                  AND NOT EXISTS (SELECT 1 FROM engagements e WHERE e.id = v.engagement_id)),
               (SELECT count(*) FROM webhook_deliveries d
                  WHERE NOT EXISTS (SELECT 1 FROM engagements e WHERE e.id = d.engagement_id))""")[0]
    in_flight_found = len({r.marker for r in in_flight} & found)
    out.fig(f"partial writes: {len(partial)} of {len(rows)} engagements lack (or double) their transition, audit "
            f"record, event, delivery or outbox message; orphans (audit, event, delivery without engagement): "
            f"{', '.join(orphans)}; the {len(in_flight)} writes in flight at the kill: {in_flight_found} committed "
            f"whole, {len(in_flight) - in_flight_found} not at all")
    out.check(not partial, f"{len(partial)} partially written engagements, e.g. {partial[:2]}")
    out.check(orphans == ["0", "0", "0"], f"orphaned rows: {orphans}")
    out.fig(f"outbox at the kill: {pending} messages pending, {held} of them claimed by the killed instance (they "
            f"wait for its {LEASE_SECS} s lease to run out); the receiver had {received_at_kill} deliveries, and "
            f"{receiver.cut} attempt(s) cut off mid-request")

    failed = [r for r in results if not r.ok]
    retry_writes(out, keel, token, failed, "/v1/engagements", lambda title: engagement_body(org, people, title),
                 pg, database)
    titles = collections.Counter(row[0] for row in pg.psql(
        database, f"SELECT title FROM engagements WHERE title LIKE '{prefix}-%'"))
    twice = [t for t, n in titles.items() if n > 1]
    out.fig(f"engagements written twice after the retries: {len(twice)}")
    out.check(not twice, f"{len(twice)} engagements exist twice after a retry with the same Idempotency-Key")

    expected = dict(pg.psql(database, f"""SELECT d.event_id, e.title FROM webhook_deliveries d
        JOIN engagements e ON e.id = d.engagement_id WHERE e.title LIKE '{prefix}-%'"""))
    acked_events = {event for event, title in expected.items() if title in acked}

    def finish():
        # Done when every expected event has arrived and the database has no delivery left to make
        # (one the killed instance made but had not recorded is made again after the lease).
        deadline = t_kill + LEASE_SECS + 25
        wait_from = now()
        while now() < deadline:
            if set(expected) <= {d["event_id"] for d in receiver.received}:
                left = pg.psql(database, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")[0][0]
                if left == "0":
                    time.sleep(2)  # a last attempt, if any, lands
                    break
            time.sleep(1)
        waited = now() - wait_from
        received = list(receiver.received)
        events = collections.Counter(d["event_id"] for d in received)
        ids = collections.Counter(d["webhook_id"] for d in received)
        missing = set(expected) - set(events)
        unexpected = set(events) - set(expected)
        duplicates = sum(n - 1 for n in ids.values() if n > 1)
        dup_events = sum(n - 1 for n in events.values() if n > 1)
        bad_sigs = sum(1 for d in received if not d["signature_ok"])
        last = max((d["t"] for d in received), default=t_kill) - t_kill
        status = dict(pg.psql(database, "SELECT status, count(*) FROM webhook_deliveries GROUP BY status"))
        out.fig(f"deliveries: {len(expected)} expected (one per committed engagement; {len(acked_events)} of "
                f"acknowledged writes), {len(set(events) & set(expected))} delivered, {len(missing)} missing, "
                f"{len(unexpected)} unexpected; {len(received)} POSTs received: {duplicates} duplicates by webhook-id "
                f"({dup_events} by event id), {bad_sigs} with a bad signature; last one {last:.1f} s after the kill "
                f"(waited {waited:.0f} s for the lease at the end of the run); deliveries table: {status}")
        out.check(not missing, f"{len(missing)} queued deliveries never arrived (waited until {LEASE_SECS + 25} s "
                               f"after the kill), e.g. {sorted(missing)[:3]}")
        out.check(not unexpected and bad_sigs == 0, f"{len(unexpected)} unexpected events, {bad_sigs} bad signatures")
        out.check(set(status) <= {"delivered"}, f"deliveries not delivered in the database {LEASE_SECS + 25} s after "
                                               f"the kill: {status}")
        if duplicates:
            out.note(f"{duplicates} deliveries arrived twice: at least once, as documented (a delivery the killed "
                     f"instance made but had not recorded is made again; same webhook-id, so receivers drop it)")
        keel.stop()
        receiver.close()
        if not out.passed:
            out.quote_log(keel)
        return out

    return out, finish


# --------------------------------------------------------------------------------------------
# 3. SIGTERM under load


#: A request sent this close before the signal, on a new connection, may still sit in the kernel's
#: accept queue when the server closes its listening socket, and is reset without being read.
ACCEPT_RACE = 0.05


def scenario_sigterm(ctx):
    out = Outcome("sigterm", "SIGTERM under load: in-flight requests finish within the grace period")
    grace = ctx.args.grace
    pg = ctx.postgres()
    database = "keel_faults_term"
    pg.create_database(database)
    keel = Keel(ctx, "sigterm", pg.url(database), env={"KEEL_SHUTDOWN_TIMEOUT_SECS": str(grace)})
    token = keel.admin_token()
    keel.start()
    orgs = [create_organization(keel, token, f"seed-{i}") for i in range(10)]
    prefix = f"term-{ctx.run_id}"
    pause = 3.0
    uploads, heads, kept = ctx.args.slow_uploads, 2, 1
    fresh = ctx.args.clients
    keep_alive = [KeepAlive(keel.port, token) for _ in range(kept)]

    def make(i, seq):
        name = f"{prefix}-{i}-{seq}"
        if i < uploads:  # a slow upload: half the body, `pause` s, the rest
            return lambda: split_post(keel.port, "/v1/organizations", token, {"name": name}, pause, "body",
                                      "slow upload", name)
        if i < uploads + heads:  # a slow client: half the request head, `pause` s, the rest
            return lambda: split_post(keel.port, "/v1/organizations", token, {"name": name}, pause, "head",
                                      "slow head", name)
        read = ("GET", f"/v1/organizations/{random.choice(orgs)}", None, None)
        write = ("POST", "/v1/organizations", {"name": name}, name)
        method, path, body, marker = write if seq % 2 == 0 else read
        kind = "write" if marker else "read"
        if i < uploads + heads + kept:
            client = keep_alive[i - uploads - heads]
            return lambda: client.request(method, path, body, "keep-alive " + kind, marker)
        return kind, method, path, body, marker

    load = Load(keel.port, token, uploads + heads + kept + fresh, make, stagger=0.4).start()
    time.sleep(5.2)
    log(f"sigterm: SIGTERM (grace {grace}s)")
    t_sig = now()
    keel.signal(signal.SIGTERM)
    code = keel.wait_exit(grace + 15)
    t_exit = now()
    time.sleep(0.5)
    load.stop()
    results = load.results
    acked, unknown = written_names(results, kinds=("write", "slow upload", "slow head", "keep-alive write"))
    found = {row[0] for row in pg.psql(database, f"SELECT name FROM organizations WHERE name LIKE '{prefix}-%'")}

    in_flight = [r for r in results if r.t0 <= t_sig <= r.t1]
    late = [r for r in results if r.t0 > t_sig]
    before = [r for r in results if r.t1 < t_sig]
    unanswered = [r for r in in_flight if r.status is None]
    # A new connection opened within ACCEPT_RACE of the signal and reset unread (and, for a write,
    # not committed): it had not reached Keel. Anything else in flight must be answered.
    raced = [r for r in unanswered if r.kind in ("read", "write") and t_sig - r.t0 < ACCEPT_RACE
             and r.marker not in found]
    cut_heads = [r for r in unanswered if r.kind == "slow head"]
    dropped = [r for r in unanswered if r not in raced and r not in cut_heads]
    finish = max((r.t1 - t_sig for r in in_flight if r.status is not None), default=0.0)
    out.fig(f"load: {fresh} clients on a new connection per request (writes and reads), {kept} on a keep-alive "
            f"connection, {uploads} slow uploads (half the body, {pause:.0f} s, the rest), {heads} slow clients (half "
            f"the request head, {pause:.0f} s, the rest); KEEL_SHUTDOWN_TIMEOUT_SECS={grace}")
    out.fig(f"requests sent: {len(results)}; before the signal: {len(before)} ({tally_text(tally(before))})")
    kinds = collections.Counter(r.kind for r in in_flight)
    out.fig(f"in flight at SIGTERM: {len(in_flight)} ({', '.join(f'{k}: {v}' for k, v in sorted(kinds.items()))}): "
            f"{tally_text(tally(in_flight))}; the last answer {finish:.2f} s after the signal")
    for r in in_flight:
        if not r.ok:
            out.fig(f"  in flight, not 2xx: {r.kind} {r.method} {r.path}, sent {(t_sig - r.t0) * 1000:.0f} ms before the "
                    f"signal, ended {r.t1 - t_sig:.2f} s after it: {r.status or r.error}"
                    + (" (not committed)" if r.marker and r.marker not in found else ""))
    if raced:
        out.note(f"{len(raced)} request(s) on a connection opened < {ACCEPT_RACE * 1000:.0f} ms before the signal were "
                 f"reset unread (in the kernel's accept queue when the listener closed; not committed): the usual "
                 f"race of closing a listening socket, which a load balancer avoids by draining first")
    late_kinds = collections.defaultdict(collections.Counter)
    for r in late:
        late_kinds[r.kind][classify(r)] += 1
    out.fig(f"process exit: status {code}, {t_exit - t_sig:.2f} s after the signal; requests sent after the "
            f"signal: {len(late)} (" + "; ".join(f"{k}: {tally_text(c)}" for k, c in sorted(late_kinds.items())) + ")")
    first_late = {}
    for r in sorted(late, key=lambda r: r.t0):
        first_late.setdefault(r.kind, r)
    out.fig("first request after the signal, by client: " + "; ".join(
        f"{k}: {r.status or r.error.split(':')[0]} after {(r.t0 - t_sig) * 1000:.0f} ms"
        for k, r in sorted(first_late.items())))
    shutdown = keel.log_lines(r"graceful|SIGTERM received|accept thread stopped")
    if shutdown:
        out.fig("server log: " + " / ".join(re.sub(r"^\S+\s+\w+\s+", "", line) for line in shutdown))
    out.check(code is not None and t_exit - t_sig <= grace + 1.0,
              f"Keel did not exit within the grace period + 1 s ({t_exit - t_sig:.1f} s, status {code})")
    out.check(code == 0, f"exit status {code} (expected 0)")
    out.check(not dropped, f"{len(dropped)} requests in flight at the signal got no answer")
    out.check(not cut_heads, f"{len(cut_heads)} requests whose head was half received at the signal were closed "
                             f"without an answer {min((r.t1 - t_sig for r in cut_heads), default=0):.2f}-"
                             f"{max((r.t1 - t_sig for r in cut_heads), default=0):.2f} s after it, within the grace "
                             f"period (not processed: a client cannot tell, and will not retry a POST)")
    out.check(all(r.ok for r in in_flight if r.status is not None),
              f"requests in flight at the signal answered other than 2xx: {tally_text(tally(in_flight))}")
    out.check(finish <= grace, f"in-flight requests finished {finish:.1f} s after the signal (> {grace} s)")
    out.check(not bad_statuses(tally(before), allowed=("2xx",)), f"failures before the signal: "
                                                                 f"{tally_text(tally(before))}")
    out.check(not [r for r in late if r.status is not None and r.status >= 500],
              f"5xx answers after the signal: {tally_text(tally(late))}")
    check_writes(out, acked, unknown, found)
    if not out.passed:
        out.quote_log(keel)
    return out


# --------------------------------------------------------------------------------------------
# 4. SQLite with concurrent writers


def scenario_sqlite(ctx):
    pool = max(4, 2 * (os.cpu_count() or 1))  # Keel's default db_pool_size
    out = Outcome("sqlite", f"SQLite with 1 to {2 * pool} concurrent writers (pool size {pool})")
    path = os.path.join(ctx.work, "sqlite", "keel.db")
    keel = Keel(ctx, "sqlite", f"sqlite://{path}",
                env={"KEEL_DB_POOL_SIZE": str(pool), "KEEL_WEBHOOK_ALLOW_INTERNAL": "true"})
    token = keel.admin_token()
    keel.start()
    receiver = Receiver()
    org, people = engagement_setup(ctx, keel, token, receiver, "sqlite")
    levels = sorted({1, 2, pool // 2, pool, pool + pool // 2, 2 * pool} - {0})
    rows = []
    everything = []
    for level in levels:
        prefix = f"sq-{ctx.run_id}-c{level}"

        def make(i, seq, prefix=prefix):
            name = f"{prefix}-{i}-{seq}"
            if seq % 3 == 1:
                return "user", "POST", "/v1/users", {"email": f"{name}@sqlite.example", "name": name,
                                                       "roles": ["coach"]}, f"{name}@sqlite.example"
            if seq % 3 == 2:
                return "engagement", "POST", "/v1/engagements", engagement_body(org, people, name), name
            return "write", "POST", "/v1/organizations", {"name": name}, name

        load = Load(keel.port, token, level, make).start()
        time.sleep(ctx.args.level_secs)
        load.stop()
        results = load.results
        everything += results
        ms = [r.ms for r in results if r.ok]
        counts = tally(results)
        rows.append((level, len(results), len(results) / ctx.args.level_secs, counts, pct(ms, 50), pct(ms, 99)))
        log(f"sqlite: {level} writers: {len(results)} writes, {tally_text(counts)}, p50 {pct(ms, 50):.1f} ms, "
            f"p99 {pct(ms, 99):.1f} ms")
    deadline = now() + 10  # the delivery worker, a writer too, catches up
    while now() < deadline and len(receiver.received) < sum(1 for r in everything if r.kind == "engagement" and r.ok):
        time.sleep(0.2)
    keel.stop()
    receiver.close()
    db = sqlite3.connect(path)
    try:
        names = {r[0] for r in db.execute("SELECT name FROM organizations WHERE name LIKE 'sq-%'")}
        emails = {r[0] for r in db.execute("SELECT email FROM users WHERE email LIKE 'sq-%'")}
        titles = {r[0] for r in db.execute("SELECT title FROM engagements WHERE title LIKE 'sq-%'")}
    finally:
        db.close()
    out.fig(f"writes: POST /v1/organizations, POST /v1/users and POST /v1/engagements in turn (each engagement "
            f"queues a webhook, so Keel's delivery worker writes too), {ctx.args.level_secs:.0f} s per level, "
            f"KEEL_DB_POOL_SIZE={pool} (the default on this machine), busy timeout 10 s (Keel's)")
    out.fig("| writers | writes | writes/s | answers | p50 ms | p99 ms |")
    out.fig("|---:|---:|---:|---|---:|---:|")
    for level, n, rate, counts, p50, p99 in rows:
        out.fig(f"| {level} | {n} | {rate:.0f} | {tally_text(counts)} | {p50:.1f} | {p99:.1f} |")
    counts = tally(everything)
    locked_answers = [r for r in everything if r.body and b"database is locked" in r.body]
    locked_log = keel.log_lines(r"database is locked")
    out.fig(f"all levels: {len(everything)} writes, {tally_text(counts)}; `database is locked` in answers: "
            f"{len(locked_answers)}, in the server log: {len(locked_log)}")
    out.check(not bad_statuses(counts, allowed=("2xx",)), f"answers other than 2xx: {tally_text(counts)}")
    out.check(not locked_answers and not locked_log, "`database is locked` reached an answer or the log")
    acked, unknown = written_names(everything, kinds=("write", "user", "engagement"))
    check_writes(out, acked, unknown, names | emails | titles)
    engagements = sum(1 for r in everything if r.kind == "engagement" and r.ok)
    out.fig(f"webhooks: {engagements} engagements created, {len({d['event_id'] for d in receiver.received})} "
            f"deliveries received within 10 s of the load's end")
    if not out.passed:
        out.quote_log(keel)
        for line in locked_log[:3]:
            out.notes.append("    " + line[:400])
    return out


# --------------------------------------------------------------------------------------------
# 5. Slow and abandoned clients


class Attack:
    """Bounded, loopback-only misbehaving clients, `n` of each kind:
    half   - send half a request line and headers, then nothing;
    idle   - connect and send nothing;
    trickle- send a full request head with Content-Length 100000, then one body byte every 0.5 s;
    reader - a 4 KiB receive buffer, 4 pipelined requests for the largest page of organizations,
             then read 64 bytes every 0.5 s."""

    def __init__(self, port, token, n):
        self.port, self.token, self.n = port, token, n
        self.sockets = {"half": [], "idle": [], "trickle": [], "reader": []}
        self.closed = {}  # socket -> (seconds after open until the server closed it, first bytes)
        self.opened = {}
        self.read_bytes = 0
        self.refused = 0
        self.trickle_open = 0
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def _connect(self, small_buffer=False):
        s = socket.socket()
        if small_buffer:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", self.port))
        except OSError:
            self.refused += 1
            s.close()
            return None
        self.opened[s] = now()
        return s

    def open(self):
        auth = f"Authorization: Bearer {self.token}\r\n"
        for _ in range(self.n):
            s = self._connect()
            if s:
                s.sendall(b"GET /v1/organizations?limit=20 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthoriz")
                self.sockets["half"].append(s)
            s = self._connect()
            if s:
                self.sockets["idle"].append(s)
            s = self._connect()
            if s:
                s.sendall(("POST /v1/organizations HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth +
                           "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{").encode())
                self.sockets["trickle"].append(s)
            s = self._connect(small_buffer=True)
            if s:
                one = f"GET /v1/organizations?limit=200 HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n".encode()
                s.sendall(one * 4)
                self.sockets["reader"].append(s)
        for group in self.sockets.values():
            for s in group:
                s.setblocking(False)
        threading.Thread(target=self._watch, daemon=True).start()
        threading.Thread(target=self._drip, daemon=True).start()

    def _watch(self):
        """Notices when the server closes a half / idle / trickle connection, and what it said."""
        sel = selectors.DefaultSelector()
        for kind in ("half", "idle", "trickle"):
            for s in self.sockets[kind]:
                sel.register(s, selectors.EVENT_READ, kind)
        got = collections.defaultdict(bytes)
        while not self.stopping.is_set() and sel.get_map():
            for key, _ in sel.select(timeout=0.2):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if data:
                    got[s] += data
                    continue
                with self.lock:
                    self.closed[s] = (key.data, now() - self.opened[s], got[s][:40])
                sel.unregister(s)

    def _drip(self):
        while not self.stopping.wait(0.5):
            for s in self.sockets["trickle"]:
                if s in self.closed:
                    continue
                try:
                    s.send(b" ")
                except OSError:
                    pass
            for s in self.sockets["reader"]:
                try:
                    data = s.recv(64)
                    self.read_bytes += len(data)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    pass

    def summary(self):
        lines = []
        with self.lock:
            closed = dict(self.closed)
        for kind in ("half", "idle", "trickle"):
            done = [v for s, v in closed.items() if v[0] == kind]
            opened = len(self.sockets[kind])
            if done:
                secs = sorted(v[1] for v in done)
                first = collections.Counter(v[2].split(b"\r\n", 1)[0].decode(errors="replace") or "(nothing)"
                                            for v in done)
                lines.append(f"{kind}: {opened} opened, {len(done)} closed by the server after "
                             f"{secs[0]:.1f}-{secs[-1]:.1f} s (answer: "
                             f"{', '.join(f'{k} x{v}' for k, v in first.items())})")
            else:
                lines.append(f"{kind}: {opened} opened, none closed by the server during the attack")
                if kind == "trickle":
                    self.trickle_open = opened
        lines.append(f"reader: {len(self.sockets['reader'])} opened, {self.read_bytes} bytes read in all")
        if self.refused:
            lines.append(f"{self.refused} attack connections refused")
        return lines

    def close(self):
        self.stopping.set()
        for group in self.sockets.values():
            for s in group:
                try:
                    s.close()
                except OSError:
                    pass


def scenario_slow(ctx):
    n = ctx.args.attack_sockets
    out = Outcome("slow", f"Slow and abandoned clients ({n} of each kind, loopback)")
    path = os.path.join(ctx.work, "slow", "keel.db")
    keel = Keel(ctx, "slow", f"sqlite://{path}")
    token = keel.admin_token()
    keel.start()
    orgs = [create_organization(keel, token, f"slow-{i}") for i in range(250)]

    def probe(seconds):
        def make(i, seq):
            if seq % 2:
                return "read", "GET", "/v1/organizations?limit=20", None, None
            return "read", "GET", f"/v1/organizations/{random.choice(orgs)}", None, None

        load = Load(keel.port, token, 2, make).start()
        time.sleep(seconds)
        load.stop()
        return load.results

    before = probe(5)
    rss_before = keel.rss_mib()
    attack = Attack(keel.port, token, n)
    t_open = now()
    attack.open()
    opened = now() - t_open
    time.sleep(1)
    during = probe(ctx.args.attack_secs)
    rss_during = keel.rss_mib()
    held = attack.summary()
    attack.close()
    after = probe(3)
    keel.stop()

    def stats(results):
        ms = [r.ms for r in results if r.ok]
        return len(results), tally(results), pct(ms, 50), pct(ms, 99), max(ms, default=float("nan"))

    b, d, a = stats(before), stats(during), stats(after)
    workers = os.cpu_count()
    out.fig(f"Keel on SQLite, {workers} HTTP workers (default: one per core); normal traffic: 2 clients, GET one "
            f"organization / a page of 20, one request after another")
    out.fig(f"attack: {4 * n} connections opened in {opened:.2f} s, held {ctx.args.attack_secs + 1:.0f} s")
    for line in held:
        out.fig(f"  {line}")
    out.fig("| normal requests | sent | answers | p50 ms | p99 ms | max ms |")
    out.fig("|---|---:|---|---:|---:|---:|")
    for label, s in (("before the attack", b), ("during the attack", d), ("after it", a)):
        out.fig(f"| {label} | {s[0]} | {tally_text(s[1])} | {s[2]:.1f} | {s[3]:.1f} | {s[4]:.1f} |")
    out.fig(f"Keel RSS: {rss_before:.0f} MiB before, {rss_during:.0f} MiB during the attack")
    if attack.trickle_open:
        out.note(f"the {attack.trickle_open} connections trickling a body (2 bytes/s) stayed open throughout the "
                 f"attack ({ctx.args.attack_secs + 1:.0f} s), while the half-sent heads were closed with a 408 after "
                 f"~5 s: a body sent slowly is not timed out; each holds a connection, not a worker")
    limit = max(100.0, 3 * b[3])
    out.check(not bad_statuses(d[1], allowed=("2xx",)) and not bad_statuses(b[1], allowed=("2xx",)),
              f"normal requests failed: before {tally_text(b[1])}, during {tally_text(d[1])}")
    out.check(d[3] <= limit, f"p99 during the attack {d[3]:.1f} ms > {limit:.0f} ms (max(100 ms, 3x before))")
    out.check(d[0] >= b[0] * ctx.args.attack_secs / 5 / 3,
              f"throughput of normal requests fell from {b[0] / 5:.0f}/s to {d[0] / ctx.args.attack_secs:.0f}/s")
    if not out.passed:
        out.quote_log(keel)
    return out


# --------------------------------------------------------------------------------------------


def report(ctx, outcomes, total):
    pg_version = ctx.pg.version() if ctx.pg and ctx.pg.running else None
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        commit = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], check=False).stdout.strip()
    except OSError:
        commit = "?"
    version = run([ctx.binary, "--version"], check=False).stdout.strip()
    lines = [
        f"## Keel under faults, {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}",
        "",
        f"`bench/faults` ({total:.0f} s in all). Binary: `{ctx.binary}` ({version}; checkout at {commit}). "
        f"Machine: {os.cpu_count()} CPUs ({cpu})" + (f", private PostgreSQL {pg_version}" if pg_version else "") +
        "; Keel, the database and the load share it.",
        "",
        "| scenario | result |",
        "|---|---|",
    ]
    for o in outcomes:
        lines.append(f"| {o.title} | {'PASS' if o.passed else '**FAIL**'} |")
    for o in outcomes:
        lines += ["", f"### {o.title}: {'PASS' if o.passed else 'FAIL'}", ""]
        table = False
        for f in o.figures:
            is_row = f.startswith("|")
            if is_row and not table:
                lines.append("")
            if not is_row and table:
                lines.append("")
            table = is_row
            lines.append(f if is_row else ("  - " + f.strip() if f.startswith("  ") else "- " + f))
        if table:
            lines.append("")
        for f in o.failures:
            lines.append(f"- **FAIL**: {f}")
        for n in o.notes:
            lines.append(f"- note: {n.strip()}" if not n.startswith("    ") else f"  - `{n.strip()}`")
    text = "\n".join(lines) + "\n"
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "faults-latest.md"), "w") as f:
        f.write(text)
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"comma-separated, of: {', '.join(SCENARIOS)}")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients of the load (default 4)")
    parser.add_argument("--outage", type=float, default=8, help="seconds PostgreSQL stays down per cycle")
    parser.add_argument("--grace", type=int, default=10, help="KEEL_SHUTDOWN_TIMEOUT_SECS of the SIGTERM scenario")
    parser.add_argument("--slow-uploads", type=int, default=3, help="slow uploads in flight at SIGTERM")
    parser.add_argument("--level-secs", type=float, default=4, help="seconds per concurrency level (SQLite)")
    parser.add_argument("--attack-sockets", type=int, default=50, help="misbehaving connections of each kind")
    parser.add_argument("--attack-secs", type=float, default=8, help="seconds of normal traffic during the attack")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, databases)")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    for tool in ["psql"] if {"pg-restart", "sigkill", "sigterm"} & set(chosen) else []:
        if not shutil.which(tool):
            sys.exit(f"faults: {tool} is needed (Debian: postgresql-client)")

    ctx = Context(args)
    log(f"binary {ctx.binary}; work directory {ctx.work}")
    outcomes = []
    finish_kill = None
    kill_outcome = None
    steps = {"pg-restart": scenario_pg_restart, "sigterm": scenario_sigterm, "sqlite": scenario_sqlite,
             "slow": scenario_slow}
    try:
        for name in SCENARIOS:
            if name not in chosen:
                continue
            log(f"=== {name}")
            started = now()
            try:
                if name == "sigkill":
                    kill_outcome, finish_kill = scenario_sigkill(ctx)
                    kill_outcome.seconds = now() - started
                    continue
                outcome = steps[name](ctx)
            except Exception as e:  # noqa: BLE001 - a scenario that cannot run is a FAIL, the rest go on
                outcome = Outcome(name, name)
                outcome.check(False, f"the scenario could not run: {type(e).__name__}: {e}")
                if name == "sigkill":
                    kill_outcome = outcome
                    continue
            outcome.seconds = now() - started
            outcomes.append(outcome)
            log(f"=== {name}: {'PASS' if outcome.passed else 'FAIL'} ({outcome.seconds:.0f} s)")
        if finish_kill:
            log("=== sigkill: waiting for the deliveries the killed instance had claimed (lease)")
            started = now()
            try:
                finish_kill()
            except Exception as e:  # noqa: BLE001
                kill_outcome.check(False, f"the delivery check could not run: {type(e).__name__}: {e}")
            kill_outcome.seconds += now() - started
        if kill_outcome:
            outcomes.insert(min(1, len(outcomes)) if "pg-restart" in chosen else 0, kill_outcome)
            log(f"=== sigkill: {'PASS' if kill_outcome.passed else 'FAIL'}")
        total = now() - STARTED
        text = report(ctx, outcomes, total)
        print()
        print(text)
        failed = [o.name for o in outcomes if not o.passed]
        keep = args.keep or bool(failed)
    finally:
        ctx.cleanup(keep=locals().get("keep", True))
    if keep:
        print(f"logs and databases kept in {ctx.work}")
    print(f"written to {os.path.relpath(os.path.join(RESULTS, 'faults-latest.md'), ROOT)}")
    if failed:
        print("FAILED: " + ", ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
