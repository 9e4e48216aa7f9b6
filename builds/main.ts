/**
 * `npm run vendor:build [-- --update-manifest] [--no-cache] [--this-platform]`
 *
 * Builds every artifact of vendor-manifest.json into artifacts/ from pinned sources, then checks
 * each artifact's sha256 against the manifest (exit 1 on a difference) or, with --update-manifest,
 * rewrites the pins. Built artifacts are cached outside the repo, keyed by everything that goes
 * into them, so tests and CI build once per machine. --this-platform builds only this machine's
 * platform (the demo's needs: linux-x64 here, not arm64 under a cross compiler).
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BuildpackFault, UserError } from "../src/core/errors";
import { consoleLog, humanBytes } from "../src/core/log";
import { ARCH_PLATFORMS, type DebianPin, type Manifest, validateManifest } from "../src/core/manifest";
import { checkArtifactSbom, SBOM_FILE } from "../src/core/sbom";
import { sha256File, sha256Text } from "../src/core/sha256";
import { type Ledger, ledgerProblems, modulesOfNgxModulesC, readLedger, unreviewedModules } from "./advisories";
import { runEntry } from "./entry";
import { buildInputsKey, checkPatchLists, checkSourceSha256, libraryEnvName } from "./recipe";
import { artifactSbom } from "./sbom";

// Run through support/run-ts.mjs from a temporary bundle, so find the checkout from the cwd.
function findRoot(dir: string): string {
  if (existsSync(join(dir, "vendor-manifest.json"))) return dir;
  const up = dirname(dir);
  if (up === dir) throw new UserError("vendor-manifest.json not found", "Run this from inside the buildpack checkout.");
  return findRoot(up);
}
const ROOT = findRoot(process.cwd());
const MANIFEST_PATH = join(ROOT, "vendor-manifest.json");
const OUT_DIR = join(ROOT, "artifacts");
const BUILDS_DIR = join(ROOT, "builds");
// Fixed: the path ends up inside the binaries, so every build must use the same one.
const BUILD_ROOT = "/tmp/hbnp-vendor-build";
const CACHE_ROOT = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "heroku-buildpack-nginx-pgbouncer");
const log = consoleLog();

interface Options {
  updateManifest: boolean;
  useCache: boolean;
  thisPlatformOnly: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { updateManifest: false, useCache: true, thisPlatformOnly: false };
  for (const a of argv) {
    if (a === "--update-manifest") opts.updateManifest = true;
    else if (a === "--no-cache") opts.useCache = false;
    else if (a === "--this-platform") opts.thisPlatformOnly = true;
    else throw new UserError(`unknown option ${a}`, "Options: --update-manifest, --no-cache, --this-platform.");
  }
  if (opts.updateManifest && opts.thisPlatformOnly)
    throw new UserError("--update-manifest needs every platform's artifacts", "Leave out --this-platform.");
  return opts;
}

/** Fetches an orig tarball with `apt-get source` (deb-src entries needed) and checks its sha256. */
function fetchOrig(pin: DebianPin, sha256: string, dir: string): string {
  const path = join(dir, pin.orig);
  const good = () => existsSync(path) && sha256Text(readFileSync(path)) === sha256;
  if (good()) return path;
  rmSync(path, { force: true });
  // Any revision that ships the same orig tarball will do: the patches we apply are in the repo.
  const upstream = pin.version.replace(/^\d+:/, "").replace(/-[^-]+$/, "");
  const listed = spawnSync("apt-cache", ["showsrc", pin.package], { encoding: "utf8" }).stdout ?? "";
  const versions = [...listed.matchAll(/^Version: (.+)$/gm)]
    .map((m) => m[1])
    .filter((v) => v.replace(/^\d+:/, "").replace(/-[^-]+$/, "") === upstream);
  for (const v of [pin.version, ...new Set(versions)]) {
    spawnSync("apt-get", ["source", "--download-only", "-qq", `${pin.package}=${v}`], { cwd: dir, stdio: "ignore" });
    if (existsSync(path)) break;
  }
  if (!existsSync(path)) {
    throw new UserError(
      `could not download ${pin.orig} (Debian source package ${pin.package} ${pin.version})`,
      "The build needs deb-src entries for bookworm and trixie: run builds/setup-build-host.sh as root.",
    );
  }
  checkSourceSha256(path, sha256);
  return path;
}

/** Fetches an npm package tarball (`npm:<spec>`) and checks its sha256. */
function fetchNpm(spec: string, sha256: string, dir: string, pinned: boolean): string {
  const out = execFileSync("npm", ["pack", spec, "--pack-destination", dir, "--json", "--silent"], {
    encoding: "utf8",
  });
  const [info] = JSON.parse(out) as { filename: string }[];
  const path = join(dir, info.filename);
  if (pinned) checkSourceSha256(path, sha256);
  return path;
}

function runScript(script: string, args: string[], env: Record<string, string>): void {
  const r = spawnSync("bash", [join(BUILDS_DIR, script), ...args], {
    stdio: "inherit",
    env: { ...process.env, ...env },
  });
  if (r.status !== 0)
    throw new BuildpackFault(
      `${script} failed (exit ${r.status ?? r.signal})`,
      `The lines above say where; build logs are under ${BUILD_ROOT}/logs.`,
    );
}

// PCRE2 entry points whose 10.47-10.48 security fixes we do not carry (SECURITY.md, its table):
// the static link leaves them out as long as nginx calls none of them, and this holds it to that.
const PCRE2_UNFIXED = ["pcre2_dfa_match", "pcre2_convert", "pcre2_serialize_encode", "pcre2_substitute"];

/** How this machine runs and inspects a platform's binaries: natively, or through qemu and the cross binutils. */
interface PlatformTools {
  run: (binary: string, args: string[]) => { cmd: string; args: string[] };
  nm: string;
}
const PLATFORM_TOOLS: Record<string, PlatformTools> = {
  [ARCH_PLATFORMS.amd64]: { run: (b, a) => ({ cmd: b, args: a }), nm: "nm" },
  [ARCH_PLATFORMS.arm64]: {
    run: (b, a) => ({ cmd: "qemu-aarch64-static", args: [b, ...a] }),
    nm: "aarch64-linux-gnu-nm",
  },
};

function platformTools(platform: string): PlatformTools {
  const t = PLATFORM_TOOLS[platform];
  if (!t)
    throw new BuildpackFault(
      `vendor-manifest.json: unknown platform ${platform}`,
      `Platforms: ${Object.keys(PLATFORM_TOOLS).join(", ")}.`,
    );
  return t;
}

function checkPcre2EntryPoints(tools: PlatformTools): void {
  const symbols = execFileSync(tools.nm, ["--defined-only", join(BUILD_ROOT, "src/nginx/objs/nginx")], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  const linked = PCRE2_UNFIXED.filter((f) => new RegExp(`\\b${f}(_8)?$`, "m").test(symbols));
  if (linked.length)
    throw new BuildpackFault(
      `nginx links ${linked.join(", ")}, whose PCRE2 security fixes we do not carry`,
      "Backport those fixes (SECURITY.md, its table) before using them.",
    );
  log.detail(`nginx links none of ${PCRE2_UNFIXED.join(", ")}`);
}

// The unstripped binaries that link mimalloc in place of musl's malloc (build-static.sh).
const MIMALLOC_LINKED = ["src/nginx/objs/nginx", "src/pgbouncer/pgbouncer", "src/stunnel/src/stunnel"];

// What musl's own allocators leave in a binary that links them: mallocng's state, and the entry
// points behind its internal __libc_malloc (mallocng's, and the never-freeing bump allocator's).
const MUSL_ALLOCATOR_SYMBOLS = ["__malloc_context", "__libc_malloc_impl", "__simple_malloc"];

/**
 * Holds each of them to one allocator: malloc is mimalloc's, and none of musl's is linked, as one
 * would be if an entry point mimalloc does not override were called (aligned_alloc on musl before
 * our patch 0003): memory from one heap freed into the other.
 */
function checkOneAllocator(tools: PlatformTools): void {
  for (const rel of MIMALLOC_LINKED) {
    const symbols = execFileSync(tools.nm, ["--defined-only", join(BUILD_ROOT, rel)], {
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    const address = (name: string) => new RegExp(`^(\\S+) \\S ${name}$`, "m").exec(symbols)?.[1];
    const name = rel.split("/").pop();
    if (!address("mi_malloc") || address("malloc") !== address("mi_malloc"))
      throw new BuildpackFault(
        `${name}: malloc is not mimalloc's`,
        "See MIMALLOC_O in builds/build-static.sh: the object must be on the link line.",
      );
    const musl = MUSL_ALLOCATOR_SYMBOLS.filter((symbol) => address(symbol));
    if (musl.length)
      throw new BuildpackFault(
        `${name} links musl's malloc beside mimalloc (${musl.join(", ")})`,
        "Some allocation entry point is not overridden: find which with `nm` and override it (builds/patches/ours/mimalloc).",
      );
  }
  log.detail("nginx, pgbouncer and stunnel allocate with mimalloc alone");
}

/** Each native artifact's SBOM, into its staged tree before packaging; nginx's from its own -V. */
function writeSboms(manifest: Manifest, ledger: Ledger, natives: Manifest["artifacts"], tools: PlatformTools): void {
  log.step("Writing SBOMs");
  for (const a of natives) {
    const staged = join(BUILD_ROOT, "stage", a.name);
    const properties: { name: string; value: string }[] = [];
    if (a.name === "nginx") {
      const nginxV = tools.run(join(staged, "bin/nginx"), ["-V"]);
      const v = spawnSync(nginxV.cmd, nginxV.args, { encoding: "utf8" });
      const args = /^configure arguments: (.*)$/m.exec(v.stderr)?.[1];
      if (!args)
        throw new BuildpackFault("nginx -V printed no configure arguments", `See ${BUILD_ROOT}/logs/nginx.log.`);
      properties.push({ name: "nginx:configure-arguments", value: args });
      const modules = modulesOfNgxModulesC(readFileSync(join(BUILD_ROOT, "src/nginx/objs/ngx_modules.c"), "utf8"));
      const unreviewed = unreviewedModules(ledger, modules);
      if (unreviewed.length)
        throw new BuildpackFault(
          `nginx compiles ${unreviewed.join(", ")}, whose advisories builds/advisories.json has never reviewed`,
          "Sweep their advisories, then add them to the nginx entry's modules.",
        );
      properties.push({ name: "nginx:modules", value: modules.join(" ") });
    }
    const bom = artifactSbom(a, manifest, join(BUILDS_DIR, "patches"), ledger, properties);
    writeFileSync(join(staged, SBOM_FILE), `${JSON.stringify(bom, null, 2)}\n`);
    const fixed = (bom.vulnerabilities ?? []).length;
    log.detail(`${a.name}: ${bom.components.length + 1} components, ${fixed} advisories with their status`);
  }
}

/** Reads the SBOM back out of a finished artifact and holds it to the manifest. */
function checkBuiltSbom(a: Manifest["artifacts"][number], manifest: Manifest, tarball: string): void {
  const dir = mkdtempSync(join(tmpdir(), "sbom-check-"));
  try {
    execFileSync("tar", ["-xzf", tarball, "-C", dir, `./${SBOM_FILE}`]);
    checkArtifactSbom(a, manifest, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds the artifacts of `platforms` into outDir. */
function build(manifest: Manifest, ledger: Ledger, outDir: string, updating: boolean, platforms: Set<string>): void {
  const sources = join(CACHE_ROOT, "sources");
  mkdirSync(sources, { recursive: true });
  const env: Record<string, string> = {
    OUT_DIR: outDir,
    BUILD_ROOT,
    SOURCE_DATE_EPOCH: String(manifest.sourceDateEpoch),
  };
  log.step("Fetching sources");
  for (const lib of manifest.libraries) {
    env[`SRC_${libraryEnvName(lib.name)}`] = fetchOrig(lib.debian, lib.source.sha256, sources);
    env[`VER_${libraryEnvName(lib.name)}`] = lib.version;
    log.detail(`${lib.debian.orig}: sha256 ok`);
  }
  const natives = manifest.artifacts.filter((a) => a.name !== "node" && platforms.has(a.platform));
  for (const a of natives) {
    if (!a.debian) throw new BuildpackFault(`vendor-manifest.json: ${a.file} has no Debian source pin`);
    env[`SRC_${libraryEnvName(a.name)}`] = fetchOrig(a.debian, a.source.sha256, sources);
    env[`VER_${libraryEnvName(a.name)}`] = a.version;
  }
  log.detail("nginx, pgbouncer and stunnel sources: sha256 ok");
  // One platform after the other in the one fixed BUILD_ROOT: the same sources and patches for each.
  for (const platform of [...new Set(natives.map((a) => a.platform))]) {
    const tools = platformTools(platform);
    log.step(`Building nginx, pgbouncer and stunnel for ${platform} from source`);
    log.detail(`Once per machine: about 8 minutes per platform on 2 cores; later runs reuse ${CACHE_ROOT}`);
    runScript("build-static.sh", [], { ...env, PLATFORM: platform });
    checkPcre2EntryPoints(tools);
    checkOneAllocator(tools);
    writeSboms(
      manifest,
      ledger,
      natives.filter((a) => a.platform === platform),
      tools,
    );
    runScript("build-static.sh", ["package"], { ...env, PLATFORM: platform });
  }
  for (const a of manifest.artifacts.filter((x) => x.name === "node" && platforms.has(x.platform))) {
    const spec = a.source.url.replace(/^npm:/, "");
    const tgz = fetchNpm(spec, a.source.sha256, sources, !updating);
    if (updating) a.source.sha256 = sha256Text(readFileSync(tgz));
    runScript("package-node.sh", [tgz, a.version], { ...env, PLATFORM: a.platform });
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const manifest = validateManifest(JSON.parse(readFileSync(MANIFEST_PATH, "utf8")));
  checkPatchLists(manifest, BUILDS_DIR);
  const ledger = readLedger(BUILDS_DIR);
  const drift = ledgerProblems(ledger, manifest, join(BUILDS_DIR, "patches"));
  if (drift.length)
    throw new BuildpackFault(
      `builds/advisories.json and the build disagree:\n${drift.join("\n")}`,
      'Bring the ledger up to date (builds/README.md, "The advisory ledger").',
    );
  const key = buildInputsKey(manifest, BUILDS_DIR);
  const cacheDir = join(CACHE_ROOT, "vendor", key);
  const thisPlatform = `linux-${process.arch}`;
  const wanted = manifest.artifacts.filter((a) => !opts.thisPlatformOnly || a.platform === thisPlatform);
  if (wanted.length === 0)
    throw new UserError(`vendor-manifest.json has no ${thisPlatform} artifacts`, "Build on linux-x64.");
  // The cache holds each platform's artifacts apart: a --this-platform run leaves the others to build.
  const missing = new Set(
    wanted.filter((a) => !opts.useCache || !existsSync(join(cacheDir, a.file))).map((a) => a.platform),
  );
  const cached = missing.size === 0;
  if (cached) {
    log.step(`Using cached artifacts (${cacheDir})`);
  } else {
    const tmp = `${cacheDir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    build(manifest, ledger, tmp, opts.updateManifest, missing);
    mkdirSync(cacheDir, { recursive: true });
    for (const f of readdirSync(tmp)) renameSync(join(tmp, f), join(cacheDir, f));
    rmSync(tmp, { recursive: true, force: true });
  }
  mkdirSync(OUT_DIR, { recursive: true });
  const mismatches: string[] = [];
  log.step("Artifacts");
  for (const a of wanted) {
    const from = join(cacheDir, a.file);
    copyFileSync(from, join(OUT_DIR, a.file));
    const sha256 = await sha256File(from);
    const size = statSync(from).size;
    log.detail(`${a.file.padEnd(36)} ${humanBytes(size).padStart(9)}  ${sha256}`);
    if (a.name !== "node") {
      a.sbom = SBOM_FILE;
      checkBuiltSbom(a, manifest, from);
    }
    if (sha256 !== a.sha256 || size !== a.size)
      mismatches.push(`${a.file}: built ${sha256} (${size} bytes), manifest pins ${a.sha256} (${a.size} bytes)`);
    a.sha256 = sha256;
    a.size = size;
  }
  for (const f of readdirSync(OUT_DIR)) if (!wanted.some((a) => a.file === f)) rmSync(join(OUT_DIR, f));
  log.detail(`done in ${((Date.now() - started) / 1000).toFixed(0)} s${cached ? " (cached)" : ""}`);
  if (opts.updateManifest) {
    writeFileSync(MANIFEST_PATH, `${JSON.stringify(manifest, null, 2)}\n`);
    log.step(`Updated ${MANIFEST_PATH}`);
  } else if (mismatches.length) {
    throw new BuildpackFault(
      `built artifacts differ from vendor-manifest.json:\n${mismatches.join("\n")}`,
      "If a version or patch changed on purpose, run `npm run vendor:build -- --update-manifest`; otherwise the build is not reproducible here.",
    );
  }
}

runEntry("vendor:build", main);
