#!/usr/bin/env bash
# free-port.sh: prints a TCP port nothing is bound to, below the kernel's ephemeral range, so no
# outgoing connection on this machine can take it between now and the server's bind().
set -euo pipefail
exec python3 - <<'PY'
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(200):
    port = random.randrange(10000, low)
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            continue
    print(port)
    break
else:
    raise SystemExit("free-port.sh: no free port below %d after 200 tries" % low)
PY
