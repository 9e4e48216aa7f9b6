#!/usr/bin/env python3
"""stunnel-stop-race.py STUNNEL ROUNDS SIGNAL: stops stunnel while its client connections close.

Each round starts STUNNEL in client mode in front of a TLS echo server of this script, opens 8
connections through it, exchanges a line on each, then closes them all and sends SIGNAL (INT or
TERM) at once, so that connection threads finish while stunnel's main thread joins them. A round
passes when stunnel exits by itself with status 0 within 5 s; a hang (killed after 5 s) or a death
by a signal fails it. Prints one line per failed round and a summary; exits 1 if any round failed.
With SIGNAL=TERM, stunnel gets STUNNEL_HONOR_SIGTERM (our build ignores SIGTERM otherwise).
"""
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

CONNECTIONS = 8


def free_port() -> int:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    for port in range(10000 + os.getpid() % 20000, low):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("stunnel-stop-race: no free port")


def echo_server(ctx: ssl.SSLContext, listener: socket.socket) -> None:
    def serve(conn: socket.socket) -> None:
        try:
            with ctx.wrap_socket(conn, server_side=True) as tls:
                while data := tls.recv(64):
                    tls.sendall(data)
        except OSError:
            pass

    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def wait_listening(port: int, proc: subprocess.Popen) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise SystemExit(f"stunnel-stop-race: stunnel exited at start ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    raise SystemExit("stunnel-stop-race: stunnel did not listen")


def one_round(stunnel: str, conf: str, port: int, signo: int, env: dict) -> str:
    proc = subprocess.Popen([stunnel, conf], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    wait_listening(port, proc)
    # the probe above was one connection too; let stunnel finish with it
    time.sleep(0.05)
    socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(CONNECTIONS)]
    for s in socks:
        s.sendall(b"ping\n")
    for s in socks:
        s.recv(16)
    for s in socks:
        s.close()
    proc.send_signal(signo)
    try:
        rc = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return "hung (killed after 5 s)"
    if rc < 0:
        return f"died of {signal.Signals(-rc).name}"
    return "" if rc == 0 else f"exited {rc}"


def main() -> int:
    stunnel, rounds, signame = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    signo = {"INT": signal.SIGINT, "TERM": signal.SIGTERM}[signame]
    work = tempfile.mkdtemp(prefix="stunnel-race.")
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", free_port()))
    listener.listen(64)
    threading.Thread(target=echo_server, args=(ctx, listener), daemon=True).start()
    port = free_port()
    conf = os.path.join(work, "stunnel.conf")
    with open(conf, "w") as f:
        f.write(f"foreground = yes\npid =\nsyslog = no\ndebug = 3\n[race]\nclient = yes\n"
                f"accept = 127.0.0.1:{port}\nconnect = 127.0.0.1:{listener.getsockname()[1]}\n")
    env = dict(os.environ)
    if signame == "TERM":
        env["STUNNEL_HONOR_SIGTERM"] = "1"
    failed = 0
    for n in range(1, rounds + 1):
        outcome = one_round(stunnel, conf, port, signo, env)
        if outcome:
            failed += 1
            print(f"round {n}: {outcome}")
    print(f"stunnel stopped with SIG{signame} while {CONNECTIONS} connections closed: "
          f"{rounds - failed} of {rounds} rounds clean")
    listener.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
