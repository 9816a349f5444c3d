#!/usr/bin/env python3
"""Sign-in under a burst, against a real `passnum serve` (issue 11's targets).

Starts passnum on a fresh SQLite file, trusting 127.0.0.1 as a proxy so that each request can
speak as its own client (X-Forwarded-For), then:
  1. 200 parallel sign-ins for unknown e-mails, each from its own address, while a thread asks
     /healthz every 10 ms: peak server memory (VmHWM) and /healthz latencies (median, p99);
  2. 150 parallel wrong passwords for one real account from one address: how many were
     checked (422) and how many turned away (429).

Usage: scripts/bench-sign-in.py [path/to/passnum]   (default: target/release/passnum)
Only the Python standard library is used.
"""
import http.cookiejar, os, re, signal, socket, statistics, subprocess, sys, tempfile, threading, time
import urllib.parse, urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/passnum"


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def main():
    tmp = tempfile.mkdtemp(prefix="passnum-bench-")
    db = os.path.join(tmp, "bench.db")
    env = {**os.environ, "PASSNUM_SIGNING_KEY": os.path.join(tmp, "s.key"),
           "PASSNUM_HOUSEHOLD_KEY": os.path.join(tmp, "h.key"), "RUST_LOG": "warn"}
    password = "une phrase de passe assez longue"
    subprocess.run([BIN, "--database-url", db, "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    link = subprocess.run([BIN, "--database-url", db, "--public-url", base, "staff", "create",
                           "--email", "op@passnum.fr", "--name", "Opératrice", "--role", "operator"],
                          env=env, check=True, capture_output=True, text=True).stdout.strip()
    server = subprocess.Popen([BIN, "--database-url", db, "--trusted-proxy", "127.0.0.1", "serve",
                               "--listen", f"127.0.0.1:{port}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1); break
            except OSError:
                time.sleep(0.1)
        page = urllib.request.urlopen(base + "/connexion").read().decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        opener = urllib.request.build_opener(NoRedirect)
        # The operator chooses a password through the one-time link, as a person would.
        body = urllib.parse.urlencode({"password": password, "confirmation": password, "csrf": csrf}).encode()
        try:
            opener.open(urllib.request.Request(link, data=body, headers={"Cookie": f"passnum_csrf={csrf}"}))
        except urllib.error.HTTPError as e:
            assert e.code == 303, e.code

        def sign_in(email, pw, client):
            body = urllib.parse.urlencode({"email": email, "password": pw, "csrf": csrf, "next": ""}).encode()
            req = urllib.request.Request(base + "/connexion", data=body, headers={
                "Cookie": f"passnum_csrf={csrf}", "X-Forwarded-For": client,
                "Content-Type": "application/x-www-form-urlencoded"})
            try:
                return opener.open(req, timeout=60).status
            except urllib.error.HTTPError as e:
                return e.code

        def vm(field):
            with open(f"/proc/{server.pid}/status") as f:
                for line in f:
                    if line.startswith(field):
                        return int(line.split()[1]) // 1024
        rss_before = vm("VmRSS")

        # 1. The burst, with /healthz measured alongside.
        latencies, stop = [], threading.Event()

        def probe():
            while not stop.is_set():
                t = time.perf_counter()
                urllib.request.urlopen(base + "/healthz", timeout=5).read()
                latencies.append((time.perf_counter() - t) * 1000)
                time.sleep(0.01)
        prober = threading.Thread(target=probe); prober.start()
        statuses = []
        threads = [threading.Thread(target=lambda i=i: statuses.append(
            sign_in(f"inconnu{i}@exemple.fr", "faux", f"198.51.{i // 200}.{i % 200 + 1}"))) for i in range(200)]
        t0 = time.perf_counter()
        for t in threads: t.start()
        for t in threads: t.join()
        burst_s = time.perf_counter() - t0
        time.sleep(0.2); stop.set(); prober.join()
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"200 parallel sign-ins (unknown e-mails, 200 clients): {burst_s:.2f} s, "
              f"checked (422) {statuses.count(422)}, busy (429) {statuses.count(429)}, other "
              f"{len(statuses) - statuses.count(422) - statuses.count(429)}")
        print(f"  server memory: {rss_before} MB before, peak (VmHWM) {vm('VmHWM')} MB")
        print(f"  /healthz during the burst: {len(latencies)} probes, median "
              f"{statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms")

        # 2. Wrong passwords for one account from one client.
        statuses = []
        threads = [threading.Thread(target=lambda i=i: statuses.append(
            sign_in("op@passnum.fr", f"essai {i}", "203.0.113.5"))) for i in range(150)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(f"150 parallel wrong passwords, one account, one client: checked (422) "
              f"{statuses.count(422)}, refused (429) {statuses.count(429)}")
        ok = sign_in("op@passnum.fr", password, "192.0.2.44")
        print(f"  the owner from another address then: {ok} (303 = signed in)")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        print(f"server exit status after SIGTERM: {server.returncode}")


if __name__ == "__main__":
    main()
