#!/usr/bin/env python3
"""zmtp_send.py HOST PORT HEXFRAME... — speak just enough ZMTP 3.0 (NULL
mechanism, as a DEALER) to deliver one message of the given frames (hex
strings) to a ZeroMQ ROUTER, then read for up to 2 s and print the hex of
every frame that comes back, one per line. With --raw HEX it sends those
bytes over plain TCP instead (garbage that is not ZMTP at all).
Used by the cluster scenario tests to send malformed control messages;
the test machine has no pyzmq."""
import socket
import struct
import sys


def frame(data, more):
    flags = 0x01 if more else 0x00
    if len(data) < 256:
        return bytes([flags, len(data)]) + data
    return bytes([flags | 0x02]) + struct.pack(">Q", len(data)) + data


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    args = sys.argv[3:]
    s = socket.create_connection((host, port), timeout=5)
    if args and args[0] == "--raw":
        s.sendall(bytes.fromhex(args[1]))
        s.settimeout(1)
        try:
            s.recv(4096)
        except OSError:
            pass
        s.close()
        return
    greeting = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL" + b"\x00" * 16 + b"\x00" + b"\x00" * 31
    s.sendall(greeting)
    buf = b""
    while len(buf) < 64:  # the peer's greeting, before anything else
        chunk = s.recv(64 - len(buf))
        if not chunk:
            sys.exit("zmtp_send: the peer closed during the greeting")
        buf += chunk
    prop = bytes([11]) + b"Socket-Type" + struct.pack(">I", 6) + b"DEALER"
    body = bytes([5]) + b"READY" + prop
    s.sendall(bytes([0x04, len(body)]) + body)
    frames = [bytes.fromhex(a) for a in args]
    for i, f in enumerate(frames):
        s.sendall(frame(f, i + 1 < len(frames)))
    # read the peer's greeting, READY and any reply; print reply frames
    s.settimeout(2)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except OSError:
        pass
    s.close()
    pos = 64  # skip the greeting
    while pos + 2 <= len(buf):
        flags = buf[pos]
        if flags & 0x02:
            (n,) = struct.unpack(">Q", buf[pos + 1:pos + 9])
            pos += 9
        else:
            n = buf[pos + 1]
            pos += 2
        data = buf[pos:pos + n]
        pos += n
        if not flags & 0x04:
            print(data.hex())


main()
