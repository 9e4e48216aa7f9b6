import { readFileSync } from "node:fs";
import * as semver from "semver";
import { BuildpackFault, UserError } from "./errors";

/** The stacks we build for, oldest first. The manifest must map each of them. */
export const SUPPORTED_STACKS = ["cedar-14", "heroku-20", "heroku-22", "heroku-24", "heroku-26"] as const;
export type Stack = (typeof SUPPORTED_STACKS)[number];
/** What a build with no or an unknown STACK is told (bin/lib/find-node.sh says it too). */
export const STACK_HINT = `Supported stacks: ${SUPPORTED_STACKS.join(", ")}.`;

/**
 * CPU architectures, named as CNB names them (CNB_TARGET_ARCH), and the artifact platform of each.
 * Heroku's classic builds are amd64; heroku/builder:24 and :26 are also arm64.
 */
export const ARCH_PLATFORMS = { amd64: "linux-x64", arm64: "linux-arm64" } as const;
export type Arch = keyof typeof ARCH_PLATFORMS;

/** What CNB_TARGET_ARCH, `uname -m` and Node's process.arch call each architecture. */
export const ARCH_NAMES: Record<Arch, readonly string[]> = {
  amd64: ["amd64", "x86_64", "x64"],
  arm64: ["arm64", "aarch64"],
};

/** An architecture from one of its names (ARCH_NAMES); undefined if not ours. */
export function archOf(name: string): Arch | undefined {
  return (Object.keys(ARCH_NAMES) as Arch[]).find((a) => ARCH_NAMES[a].includes(name));
}

/** Components the compile step installs; node is only for the compile step itself. */
export const COMPONENTS = ["nginx", "pgbouncer", "stunnel", "node"] as const;
export type Component = (typeof COMPONENTS)[number];

export interface SourcePin {
  /** Where upstream publishes the tarball (or `npm:<spec>` for packages from the npm registry). */
  url: string;
  sha256: string;
}

export interface DebianPin {
  /** Debian source package that ships the orig tarball. */
  package: string;
  /** The source package revision whose patches were reviewed and applied (see `patches`). */
  version: string;
  orig: string;
  /** Paths under builds/patches/ taken from that revision, in the order applied. */
  patches: string[];
  note?: string;
}

export interface Artifact {
  name: Component;
  version: string;
  platform: string;
  file: string;
  sha256: string;
  size: number;
  source: SourcePin;
  debian: DebianPin | null;
  /** Our own patches, under builds/patches/. */
  patches: string[];
  /** Libraries linked into the binary, by name in `libraries`. */
  linked: string[];
  /** The CycloneDX SBOM inside the artifact (native artifacts), relative to its root. */
  sbom?: string;
}

export interface Library {
  name: string;
  version: string;
  source: SourcePin;
  debian: DebianPin;
  /** Our own patches, under builds/patches/, applied after Debian's. */
  patches: string[];
}

export interface Manifest {
  baseUrl: string;
  sourceDateEpoch: number;
  artifacts: Artifact[];
  libraries: Library[];
  stacks: Record<Stack, string[]>;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The parser checked that every artifact's version coerces. */
function versionOf(a: Artifact): semver.SemVer {
  const v = semver.coerce(a.version);
  if (!v)
    throw new BuildpackFault(
      `vendor-manifest.json: ${a.file}: "version" ${JSON.stringify(a.version)} is not a version`,
    );
  return v;
}

function fail(where: string, what: string): never {
  throw new BuildpackFault(
    `vendor-manifest.json: ${where}: ${what}`,
    "Fix the manifest (builds/README.md describes it).",
  );
}

function str(obj: Record<string, unknown>, key: string, where: string): string {
  const v = obj[key];
  if (typeof v !== "string" || v === "") fail(where, `"${key}" must be a non-empty string`);
  return v;
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(where, "must be an object");
  return v as Record<string, unknown>;
}

function strList(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) fail(where, "must be an array of strings");
  return v as string[];
}

function source(v: unknown, where: string): SourcePin {
  const o = obj(v, where);
  const sha256 = str(o, "sha256", where);
  if (!SHA256.test(sha256)) fail(where, `"sha256" must be 64 lowercase hex digits`);
  return { url: str(o, "url", where), sha256 };
}

function debian(v: unknown, where: string): DebianPin {
  const o = obj(v, where);
  const pin: DebianPin = {
    package: str(o, "package", where),
    version: str(o, "version", where),
    orig: str(o, "orig", where),
    patches: strList(o.patches, `${where}.patches`),
  };
  if (typeof o.note === "string") pin.note = o.note;
  return pin;
}

/** Checks the shape of a parsed manifest and returns it typed; every problem names its place. */
export function validateManifest(raw: unknown): Manifest {
  const m = obj(raw, "top level");
  const baseUrl = str(m, "baseUrl", "top level");
  const sourceDateEpoch = m.sourceDateEpoch;
  if (typeof sourceDateEpoch !== "number" || !Number.isInteger(sourceDateEpoch))
    fail("top level", `"sourceDateEpoch" must be an integer`);
  if (!Array.isArray(m.artifacts) || m.artifacts.length === 0)
    fail("top level", `"artifacts" must be a non-empty array`);
  const files = new Set<string>();
  const artifacts = m.artifacts.map((a: unknown, i: number): Artifact => {
    const where = `artifacts[${i}]`;
    const o = obj(a, where);
    const name = str(o, "name", where);
    if (!(COMPONENTS as readonly string[]).includes(name))
      fail(where, `"name" must be one of ${COMPONENTS.join(", ")}`);
    const version = str(o, "version", where);
    if (!semver.valid(semver.coerce(version))) fail(where, `"version" ${JSON.stringify(version)} is not a version`);
    const file = str(o, "file", where);
    if (file.includes("/") || !file.endsWith(".tar.gz")) fail(where, `"file" must be a plain *.tar.gz file name`);
    if (files.has(file)) fail(where, `"file" ${file} appears twice`);
    files.add(file);
    const sha256 = str(o, "sha256", where);
    if (!SHA256.test(sha256)) fail(where, `"sha256" must be 64 lowercase hex digits`);
    const sbom = o.sbom;
    if (sbom !== undefined && (typeof sbom !== "string" || sbom === "" || sbom.includes("/")))
      fail(where, `"sbom" must be a file name at the artifact's root`);
    const size = o.size;
    if (typeof size !== "number" || !Number.isInteger(size) || size <= 0)
      fail(where, `"size" must be a positive integer`);
    const platform = str(o, "platform", where);
    if (!(Object.values(ARCH_PLATFORMS) as string[]).includes(platform))
      fail(where, `"platform" must be one of ${Object.values(ARCH_PLATFORMS).join(", ")}`);
    return {
      name: name as Component,
      version,
      platform,
      file,
      sha256,
      size,
      source: source(o.source, `${where}.source`),
      debian: o.debian === null ? null : debian(o.debian, `${where}.debian`),
      patches: strList(o.patches ?? [], `${where}.patches`),
      linked: strList(o.linked ?? [], `${where}.linked`),
      ...(typeof sbom === "string" ? { sbom } : {}),
    };
  });
  const libraries = (Array.isArray(m.libraries) ? m.libraries : []).map((l: unknown, i: number): Library => {
    const where = `libraries[${i}]`;
    const o = obj(l, where);
    return {
      name: str(o, "name", where),
      version: str(o, "version", where),
      source: source(o.source, `${where}.source`),
      debian: debian(o.debian, `${where}.debian`),
      patches: strList(o.patches ?? [], `${where}.patches`),
    };
  });
  for (const a of artifacts) {
    for (const lib of a.linked) {
      if (!libraries.some((l) => l.name === lib))
        fail(`artifact ${a.file}`, `links "${lib}", which is not in "libraries"`);
    }
  }
  const stacksObj = obj(m.stacks, "stacks");
  const stacks = {} as Record<Stack, string[]>;
  for (const stack of SUPPORTED_STACKS) {
    if (!(stack in stacksObj)) fail("stacks", `no entry for ${stack}`);
    const list = strList(stacksObj[stack], `stacks.${stack}`);
    for (const f of list) if (!files.has(f)) fail(`stacks.${stack}`, `names ${f}, which no artifact has`);
    stacks[stack] = list;
  }
  return { baseUrl, sourceDateEpoch, artifacts, libraries, stacks };
}

export function loadManifest(path: string): Manifest {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new BuildpackFault(
      `cannot read the vendor manifest at ${path}`,
      "The buildpack checkout is incomplete; clone it again.",
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BuildpackFault(`vendor-manifest.json is not valid JSON: ${(e as Error).message}`);
  }
  return validateManifest(raw);
}

export function isStack(s: string): s is Stack {
  return (SUPPORTED_STACKS as readonly string[]).includes(s);
}

/** Where an architecture is served, for the error of a build where it is not. */
export function archHint(manifest: Manifest, arch: Arch): string {
  const served = SUPPORTED_STACKS.filter((s) =>
    manifest.stacks[s].some((f) => manifest.artifacts.find((x) => x.file === f)?.platform === ARCH_PLATFORMS[arch]),
  );
  return `${arch} builds are supported on ${served.join(", ") || "no stack"}.`;
}

/** Version preferences from config vars: component -> semver range. Absent means newest. */
export type VersionRanges = Partial<Record<Component, string>>;

/**
 * The artifacts a stack installs on an architecture: for each component, the newest pinned version
 * that satisfies the user's range. A range nothing satisfies is an error that lists what there is.
 */
export function selectArtifacts(
  manifest: Manifest,
  stack: string,
  ranges: VersionRanges = {},
  arch: Arch = "amd64",
): Artifact[] {
  if (!stack) throw new UserError("STACK is not set", STACK_HINT);
  if (!isStack(stack)) throw new UserError(`stack "${stack}" is not supported`, STACK_HINT);
  const available = manifest.stacks[stack]
    .map((f) => {
      const a = manifest.artifacts.find((x) => x.file === f);
      if (!a) throw new BuildpackFault(`vendor-manifest.json: stacks.${stack} names ${f}, which no artifact has`);
      return a;
    })
    .filter((a) => a.platform === ARCH_PLATFORMS[arch]);
  if (!available.some((a) => a.name === "nginx"))
    throw new UserError(`${stack} has no ${arch} binaries here`, archHint(manifest, arch));
  const chosen: Artifact[] = [];
  for (const component of COMPONENTS) {
    const candidates = available.filter((a) => a.name === component);
    if (candidates.length === 0) {
      if (component === "node") continue;
      throw new BuildpackFault(
        `vendor-manifest.json has no ${component} artifact for ${stack}`,
        `Add one to stacks.${stack} in the manifest.`,
      );
    }
    const range = ranges[component];
    const byNewest = [...candidates].sort((a, b) => semver.rcompare(versionOf(a), versionOf(b)));
    let pick = byNewest[0];
    if (range !== undefined) {
      if (!semver.validRange(range)) {
        throw new UserError(
          `${component.toUpperCase()}_VERSION=${JSON.stringify(range)} is not a version range`,
          'Use a version such as "1.26" or a range such as "^1.24".',
        );
      }
      const match = byNewest.find((a) => semver.satisfies(versionOf(a), range));
      if (!match) {
        throw new UserError(
          `no ${component} version satisfies ${component.toUpperCase()}_VERSION=${range} on ${stack}`,
          `Versions available: ${byNewest.map((a) => a.version).join(", ")}.`,
        );
      }
      pick = match;
    }
    chosen.push(pick);
  }
  return chosen;
}
