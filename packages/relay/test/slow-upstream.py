# An upstream for the relay's tests that a Node server cannot be: its receive buffer is
# small (SO_RCVBUF, set on the listening socket before listen() so that every accepted
# socket inherits it and the window scale is chosen with it) and so is its MSS (1460, as
# on Ethernet, not loopback's 64 KiB, which lets the sender's buffer grow to megabytes), so
# the relay's writes to it queue up in the relay, as they do in front of a slow reader on a
# real network, instead of vanishing into loopback's kernel buffers.
# Each connection: the PROXY v1 header is read, "hello\n" is sent, then the upstream's FIN
# (it half-closes first), then the upload is read at `rate` bytes a second until the
# relay's FIN; one JSON line per connection on stdout: the header's source port, the
# number of bytes and their SHA-256.
#
#   python3 slow-upstream.py RCVBUF RATE     prints the port it listens on, then results
import hashlib
import json
import socket
import sys
import threading
import time

rcvbuf, rate = int(sys.argv[1]), int(sys.argv[2])
out = threading.Lock()


def serve(s: socket.socket) -> None:
    header = b""
    while not header.endswith(b"\r\n") and len(header) < 108:  # PROXY v1 §2.1: <= 107 bytes
        c = s.recv(1)
        if not c:
            break
        header += c
    source_port = int(header.split()[4])
    s.sendall(b"hello\n")
    s.shutdown(socket.SHUT_WR)
    digest = hashlib.sha256()
    n = 0
    started = time.monotonic()
    while True:
        ahead = n / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)
        c = s.recv(rcvbuf)
        if not c:
            break
        digest.update(c)
        n += len(c)
    with out:
        print(json.dumps({"port": source_port, "bytes": n, "sha256": digest.hexdigest()}), flush=True)
    s.close()


srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
srv.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1460)
srv.bind(("127.0.0.1", 0))
srv.listen(512)
print(srv.getsockname()[1], flush=True)
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
