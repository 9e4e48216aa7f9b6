import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "./errors";
import { humanBytes, type Log } from "./log";
import { sha256File } from "./sha256";

export interface DownloadTarget {
  url: string;
  /** Name of the file in the cache; also what messages call it. */
  file: string;
  sha256: string;
  size: number;
}

export interface DownloadOptions {
  cacheDir: string;
  log: Log;
  /** Attempts per file, the first included. */
  attempts?: number;
  /** Give up on a connection that has sent nothing for this long. */
  stallMs?: number;
  /** First wait between attempts; doubles each time. */
  backoffMs?: number;
  /** Progress lines are printed for files larger than this. */
  progressAbove?: number;
}

/** A failure worth another attempt (server trouble, a cut or stalled transfer) or not. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

/** `https://user:pass@host/x` -> `https://host/x`: a mirror's credentials never reach the output. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return "(an invalid URL)";
  }
}

async function attempt(
  target: DownloadTarget,
  tmp: string,
  opts: Required<Omit<DownloadOptions, "cacheDir" | "log">> & { log: Log },
): Promise<void> {
  // Loaded on the first download only: a build served from the cache never pays for undici's start-up.
  const { request } = await import("undici");
  const res = await request(target.url, {
    method: "GET",
    maxRedirections: 5,
    headersTimeout: opts.stallMs,
    bodyTimeout: opts.stallMs,
  }).catch((e: Error & { code?: string }) => {
    throw new AttemptError(`${e.code ?? e.name}: ${e.message}`, true);
  });
  if (res.statusCode !== 200) {
    res.body.resume();
    const retry = res.statusCode >= 500 || res.statusCode === 429 || res.statusCode === 408;
    throw new AttemptError(`HTTP ${res.statusCode}`, retry);
  }
  const hash = createHash("sha256");
  const out = createWriteStream(tmp);
  let received = 0;
  let nextReport = opts.progressAbove > 0 && target.size > opts.progressAbove ? 0.25 : Infinity;
  try {
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      received += buf.length;
      if (received > target.size)
        throw new AttemptError(`the server sent more than the expected ${target.size} bytes`, false);
      hash.update(buf);
      if (!out.write(buf)) await new Promise<void>((r) => out.once("drain", () => r()));
      if (received / target.size >= nextReport) {
        opts.log.detail(`  ${Math.round((received / target.size) * 100)}% of ${humanBytes(target.size)}`);
        nextReport += 0.25;
      }
    }
  } catch (e) {
    out.destroy();
    if (e instanceof AttemptError) throw e;
    const err = e as Error & { code?: string };
    throw new AttemptError(`transfer failed after ${received} bytes (${err.code ?? err.name})`, true);
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  if (received !== target.size)
    throw new AttemptError(`transfer ended after ${received} of ${target.size} bytes`, true);
  const actual = hash.digest("hex");
  if (actual !== target.sha256) throw new AttemptError(`sha256 is ${actual}, expected ${target.sha256}`, false);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Returns the path of a verified copy of `target` in the cache, downloading it if needed.
 * Bytes are hashed as they arrive into a temporary file that is renamed into place only once size
 * and sha256 match, so the cache never holds a bad file, and two builds sharing a cache at once
 * each rename a complete, verified file.
 */
export async function fetchVerified(
  target: DownloadTarget,
  options: DownloadOptions,
): Promise<{ path: string; downloaded: boolean }> {
  const opts = { attempts: 4, stallMs: 30_000, backoffMs: 1_000, progressAbove: 10 * 1024 * 1024, ...options };
  mkdirSync(opts.cacheDir, { recursive: true });
  const path = join(opts.cacheDir, target.file);
  if (existsSync(path)) {
    if ((await sha256File(path)) === target.sha256) return { path, downloaded: false };
    opts.log.warn(`cached ${target.file} does not match its sha256: replacing it`);
    rmSync(path, { force: true });
  }
  const tmp = `${path}.part-${process.pid}-${randomBytes(6).toString("hex")}`;
  let last = "";
  try {
    for (let i = 1; i <= opts.attempts; i++) {
      try {
        await attempt(target, tmp, opts);
        renameSync(tmp, path);
        return { path, downloaded: true };
      } catch (e) {
        rmSync(tmp, { force: true });
        if (!(e instanceof AttemptError)) throw e;
        last = e.message;
        if (!e.retry || i === opts.attempts) break;
        const wait = opts.backoffMs * 2 ** (i - 1);
        opts.log.detail(
          `${target.file}: ${e.message}; retrying in ${(wait / 1000).toFixed(1)} s (attempt ${i + 1} of ${opts.attempts})`,
        );
        await sleep(wait);
      }
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  throw new UserError(
    `could not download ${target.file} from ${redactUrl(target.url)}: ${last}`,
    "Check that BUILDPACK_VENDOR_URL (or the manifest's baseUrl) serves this file, then build again; nothing bad was cached.",
  );
}
