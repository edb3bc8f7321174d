#!/usr/bin/env python3
"""The benchmark's network: an asyncio HTTP/1.1 proxy in front of the moto
launcher that adds a fixed delay to every request, enforces AWS-like token
buckets (answering throttling errors as AWS does) and replays answers it
has seen before.

The launcher can add the delay and the buckets per key too, but it is a
threaded WSGI server that handles one request at a time under the GIL at
about 2 ms each, so the requests of one concurrent level queue behind each
other and the queue, not the tool, would be measured. Here a replayed
answer costs a fraction of a millisecond and waiting for the delay costs
nothing, so a level of ten requests takes the delay plus well under ten
milliseconds.

  shaper.py --upstream http://127.0.0.1:PORT --config-dir DIR --request-log FILE

Per access key K, DIR/K.json may set ``_delay_ms``, ``_buckets`` (as the
launcher's) and ``_replay``. A request without configuration is forwarded
as is. Prints ``LISTENING <port>`` and exits when stdin closes.
"""
import argparse
import asyncio
import http.client
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "moto"))
import launcher  # noqa: E402  (the launcher's request naming and AWS error bodies)

REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests",
           500: "Internal Server Error", 503: "Service Unavailable"}


class Shaper:
    def __init__(self, upstream, config_dir, log_path):
        self.host, port = upstream.split("//", 1)[1].split(":")
        self.port = int(port)
        self.config_dir = config_dir
        self.configs = {}
        self.buckets = launcher.Buckets()
        self.replay = {}
        self.log = open(log_path, "a", buffering=1) if log_path else None

    def config(self, key):
        if not key or not re.fullmatch(r"[A-Za-z0-9_-]+", key):
            return {}
        path = os.path.join(self.config_dir, key + ".json")
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            return {}
        cached = self.configs.get(key)
        if cached and cached[0] == mtime:
            return cached[1]
        with open(path) as f:
            config = json.load(f)
        self.configs[key] = (mtime, config)
        return config

    def forward(self, method, target, headers, body):
        """The launcher's answer, in a worker thread."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, target, body=body or None, headers=headers)
            r = conn.getresponse()
            data = r.read()
            kept = [(k, v) for k, v in r.getheaders()
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server")]
            return r.status, kept, data
        finally:
            conn.close()

    async def answer(self, method, target, headers, body):
        path, _, query = target.partition("?")
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
                   "HTTP_AUTHORIZATION": headers.get("authorization", ""),
                   "HTTP_X_AMZ_TARGET": headers.get("x-amz-target", "")}
        service, op = launcher.operation(environ, body)
        m = launcher.CREDENTIAL.search(environ["HTTP_AUTHORIZATION"])
        key = m.group(1) if m else ""
        config = self.config(key)
        arrived = time.time()
        delay = float(config.get("_delay_ms", 0)) / 1000.0
        if delay:
            await asyncio.sleep(delay)
        throttled = bool(config.get("_buckets")) and not self.buckets.admit(key, config["_buckets"], service, op)
        replayed = False
        if throttled:
            captured = {}

            def start(status, hdrs, exc_info=None):
                captured["status"], captured["headers"] = status, hdrs

            data = b"".join(launcher.fault_response(service, "throttle", start))
            status = int(captured["status"].split()[0])
            out_headers = captured["headers"]
        else:
            signature = (service, method, path, query, body)
            known = self.replay.get(signature) if config.get("_replay") else None
            if known is None:
                known = await asyncio.get_running_loop().run_in_executor(
                    None, self.forward, method, target, dict(headers), body)
                if config.get("_replay"):
                    self.replay[signature] = known
            else:
                replayed = True
            status, out_headers, data = known
        if self.log:
            self.log.write(json.dumps({"t": arrived, "key": key, "operation": f"{service}:{op}",
                                       "throttled": throttled, "replayed": replayed}) + "\n")
        return status, out_headers, data

    async def serve(self, reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers, raw = {}, []
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = h.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                    raw.append((name.strip(), value.strip()))
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                status, out_headers, data = await self.answer(method, target, headers, body)
                head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}"]
                head += [f"{k}: {v}" for k, v in out_headers]
                head += [f"Content-Length: {len(data)}", "Connection: keep-alive", "", ""]
                writer.write("\r\n".join(head).encode("latin-1") + data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    p.add_argument("--config-dir", required=True)
    p.add_argument("--request-log")
    args = p.parse_args()

    launcher.exit_when_stdin_closes()
    shaper = Shaper(args.upstream, args.config_dir, args.request_log)

    async def run():
        server = await asyncio.start_server(shaper.serve, "127.0.0.1", 0)
        print(f"LISTENING {server.sockets[0].getsockname()[1]}", flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(run())


if __name__ == "__main__":
    main()
