#!/usr/bin/env python3
"""http_bad_input.py — bad requests against one of Gale's HTTP ports.

    http_bad_input.py PORT --ok PATH [--ok-status 200] [--expect 'STATUS METHOD TARGET']...
                      [--template 'METHOD TARGET [BODY]']... [--fuzz N] [--seed S]

1. Every refusal the gate of common/http_server.c and the handlers make
   (malformed request line, bad version, no Host, over-long target and
   headers, too many fields, chunked body, bad Content-Length, folded or
   binary header lines, bare LF, a head cut short, plus the role's own
   --expect lines): each must get its status, and every answer of 400 or
   more must be one line of JSON with "error" (and "errorMessage" from the
   gate), Content-Type application/json, never libmicrohttpd's HTML.
2. --fuzz N: N requests mutated from the templates (and some random bytes),
   eight at a time; same rule for every answer of 400 or more; a connection
   may also just be closed, but never left hanging.
3. GET --ok PATH still answers --ok-status (200).
Exit 0 when all holds, else 1 with one line per failure.
"""
import argparse
import concurrent.futures as cf
import json
import random
import socket
import sys

HOST = "127.0.0.1"
failures = []


def exchange(port, data, half_close_after=0.5, total=10.0):
    """Send data; return the raw answer (b"" when closed without one).
    Waits half_close_after s, then half-closes (a head or body the client
    never finishes must not hang the server), then up to total s."""
    s = socket.create_connection((HOST, port), timeout=5)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass  # refused while sending: the answer may still be there
        out = b""
        s.settimeout(half_close_after)
        half = False
        waited = 0.0
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                waited += s.gettimeout()
                if not half:
                    half = True
                    try:
                        s.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    s.settimeout(1.0)
                    continue
                if waited >= total:
                    return None  # hung
                continue
            except ConnectionResetError:
                return out
            if not b:
                return out
            out += b
    finally:
        s.close()


def parse(raw):
    """(status, headers dict lowercased, body) of the final answer, or None."""
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            return None
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            return None
        status = int(parts[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(b":")
            hdrs[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
        if 100 <= status < 200:
            raw = rest
            continue
        if "content-length" in hdrs and hdrs["content-length"].isdigit():
            rest = rest[: int(hdrs["content-length"])]
        return status, hdrs, rest
    return None


def json_error_problem(status, hdrs, body):
    """None when an error answer is in Gale's shape, else what is wrong."""
    if b"<html" in body.lower():
        return "an HTML body"
    if not hdrs.get("content-type", "").startswith("application/json"):
        return f"Content-Type {hdrs.get('content-type')!r}"
    if body.rstrip(b"\n").count(b"\n"):
        return "more than one line"
    try:
        d = json.loads(body)
    except ValueError:
        return "not JSON"
    if not isinstance(d, dict) or not isinstance(d.get("error"), str):
        return 'no "error" string'
    return None


def check_fixed(port, name, data, want):
    raw = exchange(port, data)
    if raw is None:
        failures.append(f"{name}: no answer, the connection hung")
        return
    r = parse(raw)
    if not r:
        failures.append(f"{name}: no HTTP answer ({raw[:80]!r}), want {want}")
        return
    status, hdrs, body = r
    if status != want:
        failures.append(f"{name}: status {status}, want {want}: {body[:200]!r}")
    why = json_error_problem(status, hdrs, body)
    if why:
        failures.append(f"{name}: {status} answer with {why}: {body[:200]!r}")
    if "close" not in hdrs.get("connection", "").lower():
        failures.append(f"{name}: the answer does not say Connection: close")


def req(method, target, headers=(), body=b"", version=b"HTTP/1.1", host=True):
    h = [method + b" " + target + b" " + version]
    if host:
        h.append(b"Host: 127.0.0.1")
    h += list(headers)
    if body:
        h.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(h) + b"\r\n\r\n" + body


def fixed(port, ok, expects):
    big = b"a" * 100000
    cases = [
        ("garbage with NUL", b"GARBAGE \x00\xff\r\n\r\n", 400),
        ("binary request line", b"\x00\x01\x02\xff\xfe garbage\r\n\r\n", 400),
        ("method only", b"GET\r\n\r\n", 400),
        ("no version", b"GET /\r\n\r\n", 400),
        ("bad version", req(b"GET", ok, version=b"HTTP/9.9"), 505),
        ("HTTP/2.0 line", req(b"GET", ok, version=b"HTTP/2.0"), 505),
        ("not HTTP", req(b"GET", ok, version=b"FOO/1.1"), 400),
        ("space in target", b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("raw non-ASCII target", req(b"GET", b"/\xc3\xa9"), 400),
        ("no Host", req(b"GET", ok, host=False), 400),
        ("two Hosts", req(b"GET", ok, [b"Host: b"]), 400),
        ("100 kB target", req(b"GET", b"/" + big), 414),
        ("100 kB target, no end", b"GET /" + big, 414),
        ("100 kB header", req(b"GET", ok, [b"X-Big: " + big]), 431),
        ("300 headers", req(b"GET", ok, [b"X-A: 1"] * 300), 431),
        ("300 query arguments", req(b"GET", ok + b"?" + b"a&" * 300), 431),
        ("300 cookies", req(b"GET", ok, [b"Cookie: " + b"a=1; " * 300]), 431),
        ("chunked body", req(b"POST", ok, [b"Transfer-Encoding: chunked"]) + b"zz\r\n", 411),
        ("bad Content-Length", req(b"POST", ok, [b"Content-Length: abc"]), 400),
        ("huge Content-Length", req(b"POST", ok, [b"Content-Length: 99999999999999999999"]), 400),
        ("two Content-Length", req(b"POST", ok, [b"Content-Length: 1", b"Content-Length: 2"]) + b"ab", 400),
        ("folded header", req(b"GET", ok, [b"X-A: 1", b" folded"]), 400),
        ("header without colon", req(b"GET", ok, [b"NoColonHere"]), 400),
        ("control byte in a header", req(b"GET", ok, [b"X-A: a\x01b"]), 400),
        ("NUL in a header", req(b"GET", ok, [b"X-A: a\x00b"]), 400),
        ("bare LF", b"GET " + ok + b" HTTP/1.1\nHost: x\n\n", 400),
        ("empty first line", b"\r\nGET " + ok + b" HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("head cut short", b"GET " + ok + b" HTTP/1.1\r\nHost: x\r\n", 400),
        ("unknown path", req(b"GET", b"/no-such-path-gale-test"), 404),
    ]
    for e in expects:
        status, method, target = e.split(" ", 2)
        cases.append((f"{method} {target[:60]}", req(method.encode(), target.encode()), int(status)))
    for name, data, want in cases:
        check_fixed(port, name, data, want)


TOKENS = [b"\r\n", b"\r\n\r\n", b" ", b"%", b"%00", b"%FF", b"\x00", b"\xff", b"?", b"&", b"=",
          b"/", b"..", b"\n", b"\t", b":", b"Transfer-Encoding: chunked\r\n",
          b"Content-Length: 7\r\n", b"Content-Length: -1\r\n", b"Expect: 100-continue\r\n",
          b"HTTP/1.0", b"HTTP/1.1", b"Host: x\r\n", b"Connection: keep-alive\r\n", b"{", b"\"",
          b"window=", b"file=", b"A" * 5000, b"%" * 300]


def mutate(rng, base):
    b = bytearray(base)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(6)
        pos = rng.randint(0, len(b))
        if op == 0 and b:  # flip a byte
            b[min(pos, len(b) - 1)] = rng.randrange(256)
        elif op == 1:  # insert a token
            b[pos:pos] = rng.choice(TOKENS)
        elif op == 2 and b:  # delete a range
            del b[pos : pos + rng.randint(1, 16)]
        elif op == 3 and b:  # duplicate a range
            end = min(len(b), pos + rng.randint(1, 64))
            b[pos:pos] = b[pos:end] * rng.randint(1, 50)
        elif op == 4:  # random bytes
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
        else:  # truncate
            del b[pos:]
    return bytes(b)


def one_fuzz(port, i, data):
    raw = exchange(port, data, half_close_after=0.1, total=15.0)
    if raw is None:
        return f"fuzz #{i}: the connection hung: {data[:120]!r}"
    if not raw:
        return None  # closed without an answer: allowed
    r = parse(raw)
    if not r:
        return f"fuzz #{i}: not an HTTP answer {raw[:80]!r} to {data[:120]!r}"
    status, hdrs, body = r
    if status >= 400:
        why = json_error_problem(status, hdrs, body)
        if why:
            return f"fuzz #{i}: {status} with {why}: {body[:120]!r} to {data[:120]!r}"
    return None


def fuzz(port, templates, n, seed):
    rng = random.Random(seed)
    bases = []
    for t in templates:
        parts = t.split(" ", 2)
        bases.append(req(parts[0].encode(), parts[1].encode(),
                         body=parts[2].encode() if len(parts) > 2 else b""))
    inputs = []
    for _ in range(n):
        if rng.random() < 0.05:
            inputs.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))))
        else:
            inputs.append(mutate(rng, rng.choice(bases)))
    with cf.ThreadPoolExecutor(8) as ex:
        futs = [ex.submit(one_fuzz, port, i, d) for i, d in enumerate(inputs)]
        for f in futs:
            msg = f.result()
            if msg:
                failures.append(msg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--ok", required=True, help="a path answered --ok-status")
    ap.add_argument("--ok-status", type=int, default=200)
    ap.add_argument("--expect", action="append", default=[], help="'STATUS METHOD TARGET'")
    ap.add_argument("--template", action="append", default=[], help="'METHOD TARGET [BODY]'")
    ap.add_argument("--fuzz", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    fixed(a.port, a.ok.encode(), a.expect)
    if a.fuzz:
        fuzz(a.port, a.template or [f"GET {a.ok}"], a.fuzz, a.seed)
    r = parse(exchange(a.port, req(b"GET", a.ok.encode())) or b"")
    if not r or r[0] != a.ok_status:
        failures.append(f"GET {a.ok} after the bad input: {r and r[0]}, want {a.ok_status}")
    for f in failures[:40]:
        print("  " + f)
    if len(failures) > 40:
        print(f"  ... and {len(failures) - 40} more")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
