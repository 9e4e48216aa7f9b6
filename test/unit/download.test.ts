import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fetchVerified } from "../../src/core/download";
import type { Log } from "../../src/core/log";

// A real HTTP server that misbehaves on purpose, one behaviour per path.
const body = Buffer.alloc(256 * 1024, 7);
const sha256 = createHash("sha256").update(body).digest("hex");
const hits: Record<string, number> = {};
let server: Server;
let base = "";

before(async () => {
  server = createServer((req, res): void => {
    const path = req.url ?? "";
    hits[path] = (hits[path] ?? 0) + 1;
    const n = hits[path];
    if (path === "/ok") return void res.end(body);
    if (path === "/404") return void res.writeHead(404).end("no");
    if (path === "/503-then-ok") return void (n < 3 ? res.writeHead(503).end("busy") : res.end(body));
    if (path === "/500-always") return void res.writeHead(500).end("broken");
    if (path === "/redirect") return void res.writeHead(302, { location: "/ok" }).end();
    if (path === "/wrong-bytes") return void res.end(Buffer.alloc(body.length, 8));
    if (path === "/longer") return void res.end(Buffer.concat([body, Buffer.from("x")]));
    if (path === "/reset-then-ok" || path === "/short") {
      if (path === "/reset-then-ok" && n > 1) return void res.end(body);
      res.writeHead(200, { "content-length": String(body.length) });
      res.write(body.subarray(0, 1000));
      return void setTimeout(() => res.socket?.destroy(), 20);
    }
    if (path === "/stall") {
      res.writeHead(200, { "content-length": String(body.length) });
      res.write(body.subarray(0, 10));
      return; // and never more
    }
    res.statusCode = 400;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections?.();
  server.close();
});

const quiet: Log = { step() {}, detail() {}, warn() {}, error() {} };
const fast = { attempts: 3, backoffMs: 10, stallMs: 300, log: quiet };
const fresh = () => mkdtempSync(join(tmpdir(), "dl-"));
const target = (path: string) => ({ url: base + path, file: "a.tar.gz", sha256, size: body.length });

test("a good download is verified and cached; the second use downloads nothing", async () => {
  const cacheDir = fresh();
  const first = await fetchVerified(target("/ok"), { ...fast, cacheDir });
  assert.equal(first.downloaded, true);
  assert.deepEqual(readFileSync(first.path), body);
  const before = hits["/ok"];
  const second = await fetchVerified(target("/ok"), { ...fast, cacheDir });
  assert.equal(second.downloaded, false);
  assert.equal(hits["/ok"], before);
});

test("5xx is retried with backoff until it succeeds", async () => {
  const r = await fetchVerified(target("/503-then-ok"), { ...fast, cacheDir: fresh() });
  assert.equal(r.downloaded, true);
  assert.equal(hits["/503-then-ok"], 3);
});

test("a connection cut mid-body is retried", async () => {
  const r = await fetchVerified(target("/reset-then-ok"), { ...fast, cacheDir: fresh() });
  assert.equal(r.downloaded, true);
});

test("a redirect is followed", async () => {
  const r = await fetchVerified(target("/redirect"), { ...fast, cacheDir: fresh() });
  assert.deepEqual(readFileSync(r.path), body);
});

for (const [path, why] of [
  ["/404", /HTTP 404/],
  ["/500-always", /HTTP 500/],
  ["/wrong-bytes", /sha256 is/],
  ["/longer", /more than the expected/],
  ["/short", /transfer/],
  ["/stall", /transfer|Timeout/i],
] as const) {
  test(`${path}: a clear failure, nothing is left in the cache, and a later good run succeeds`, async () => {
    const cacheDir = fresh();
    await assert.rejects(
      fetchVerified(target(path), { ...fast, cacheDir }),
      (e: Error) => why.test(e.message) && e.message.includes("a.tar.gz"),
    );
    assert.deepEqual(readdirSync(cacheDir), []);
    const later = await fetchVerified(target("/ok"), { ...fast, cacheDir });
    assert.deepEqual(readFileSync(later.path), body);
  });
}

test("404 and wrong bytes are not retried; 500 is, up to the limit", async () => {
  assert.equal(hits["/404"], 1);
  assert.equal(hits["/wrong-bytes"], 1);
  assert.equal(hits["/500-always"], 3);
});

test("a mirror that is down fails clearly", async () => {
  const t = { url: "http://127.0.0.1:9/a.tar.gz", file: "a.tar.gz", sha256, size: body.length };
  await assert.rejects(
    fetchVerified(t, { ...fast, cacheDir: fresh() }),
    /could not download a\.tar\.gz from http:\/\/127\.0\.0\.1:9\/a\.tar\.gz/,
  );
});

test("a corrupted cached file is replaced", async () => {
  const cacheDir = fresh();
  writeFileSync(join(cacheDir, "a.tar.gz"), "garbage");
  const r = await fetchVerified(target("/ok"), { ...fast, cacheDir });
  assert.equal(r.downloaded, true);
  assert.deepEqual(readFileSync(r.path), body);
});

test("credentials in the mirror URL never reach the message", async () => {
  const t = {
    url: `http://user:hunter2@127.0.0.1:${new URL(base).port}/404`,
    file: "a.tar.gz",
    sha256,
    size: body.length,
  };
  await assert.rejects(fetchVerified(t, { ...fast, cacheDir: fresh() }), (e: Error) => !e.message.includes("hunter2"));
});

test("two downloads into one cache at once both end with a good file", async () => {
  const cacheDir = fresh();
  const [a, b] = await Promise.all([
    fetchVerified(target("/ok"), { ...fast, cacheDir }),
    fetchVerified(target("/ok"), { ...fast, cacheDir }),
  ]);
  assert.deepEqual(readFileSync(a.path), body);
  assert.equal(a.path, b.path);
  assert.equal(existsSync(a.path), true);
  assert.deepEqual(readdirSync(cacheDir), ["a.tar.gz"]);
});
