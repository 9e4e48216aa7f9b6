/**
 * `npm run vendor:outdated`: for each pinned source, the Debian revisions newer than (or equal to)
 * the one pinned that this machine's apt index lists, whether the archive actually serves each one's
 * files, and the newest upstream release the advisory ledger was swept through. A maintainer sees
 * at once what could be taken now, and what is listed but cannot be fetched here.
 *
 * Needs the deb-src entries of builds/setup-build-host.sh. Reads only; exits 0 (1 on a usage or
 * set-up problem).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { UserError } from "../src/core/errors";
import { consoleLog } from "../src/core/log";
import { type DebianPin, validateManifest } from "../src/core/manifest";
import { readLedger } from "./advisories";
import { runEntry } from "./entry";

const log = consoleLog();
const root = process.cwd();

interface Pinned {
  name: string;
  version: string;
  debian: DebianPin;
}

/** Every source revision of PACKAGE in the apt index (all suites with deb-src entries). */
function listedRevisions(pkg: string): string[] {
  const r = spawnSync("apt-cache", ["showsrc", pkg], { encoding: "utf8" });
  return [...new Set([...(r.stdout ?? "").matchAll(/^Version: (.+)$/gm)].map((m) => m[1]))];
}

function debianNewer(a: string, b: string): boolean {
  return spawnSync("dpkg", ["--compare-versions", a, "gt", b]).status === 0;
}

/** The files apt would download for PACKAGE=REVISION (its .dsc, orig and debian tarballs). */
function uris(pkg: string, revision: string): string[] {
  const r = spawnSync("apt-get", ["source", "--print-uris", "-qq", `${pkg}=${revision}`], { encoding: "utf8" });
  return [...(r.stdout ?? "").matchAll(/^'([^']+)'/gm)].map((m) => m[1]);
}

async function served(url: string): Promise<boolean> {
  try {
    const res = await request(url, { method: "HEAD", headersTimeout: 15000, bodyTimeout: 15000, maxRedirections: 5 });
    await res.body.dump();
    return res.statusCode >= 200 && res.statusCode < 300;
  } catch {
    return false;
  }
}

/** "served", or which of the revision's files the archive does not serve. */
async function availability(pkg: string, revision: string): Promise<string> {
  const files = uris(pkg, revision);
  if (!files.length) return "not in the deb-src index";
  const missing: string[] = [];
  for (const f of files) if (!(await served(f))) missing.push(f.slice(f.lastIndexOf("/") + 1));
  return missing.length ? `listed, not served (${missing.map(decodeURIComponent).join(", ")})` : "served";
}

async function main(): Promise<void> {
  if (process.argv.length > 2)
    throw new UserError(`unknown argument ${process.argv[2]}`, "usage: npm run vendor:outdated");
  const manifest = validateManifest(JSON.parse(readFileSync(join(root, "vendor-manifest.json"), "utf8")));
  const ledger = readLedger(join(root, "builds"));
  const pinned = new Map<string, Pinned>();
  for (const l of manifest.libraries) pinned.set(l.name, l);
  for (const a of manifest.artifacts)
    if (a.debian && !pinned.has(a.name)) pinned.set(a.name, { name: a.name, version: a.version, debian: a.debian });
  if (!listedRevisions("pgbouncer").length)
    throw new UserError(
      "apt-cache finds no source packages",
      "Run builds/setup-build-host.sh as root (deb-src entries), then apt-get update.",
    );
  for (const p of pinned.values()) {
    const swept = ledger.components.find((c) => c.name === p.name);
    log.step(`${p.name} ${p.version}: Debian ${p.debian.package} ${p.debian.version} pinned`);
    log.detail(
      swept
        ? `upstream: advisories swept through ${swept.reviewedThrough} on ${swept.swept} (builds/advisories.json)`
        : "upstream: never swept (builds/advisories.json has no entry)",
    );
    const revisions = listedRevisions(p.debian.package).filter(
      (v) => v === p.debian.version || debianNewer(v, p.debian.version),
    );
    if (!revisions.some((v) => v !== p.debian.version)) log.detail("Debian: nothing newer listed");
    for (const v of revisions.sort((a, b) => (debianNewer(a, b) ? 1 : -1))) {
      log.detail(`Debian ${v}${v === p.debian.version ? " (pinned)" : ""}: ${await availability(p.debian.package, v)}`);
    }
  }
}

runEntry("vendor:outdated", main);
