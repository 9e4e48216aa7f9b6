import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { BuildpackFault, UserError } from "./errors";

/** The config vars the compile step reads; others in ENV_DIR are never read or exported. */
export const BUILD_CONFIG_VARS = [
  "BUILDPACK_VENDOR_URL",
  "NGINX_VERSION",
  "PGBOUNCER_VERSION",
  "STUNNEL_VERSION",
] as const;
export type BuildConfigVar = (typeof BUILD_CONFIG_VARS)[number];
export type BuildConfig = Partial<Record<BuildConfigVar, string>>;

/**
 * Reads our config vars from a Heroku ENV_DIR (or a CNB platform's env/ dir): one file per var,
 * named after it, holding its value. A missing directory is an error when one was named.
 */
export function readConfigVars(envDir: string | undefined): BuildConfig {
  const config: BuildConfig = {};
  if (envDir === undefined || envDir === "") return config;
  if (!existsSync(envDir) || !statSync(envDir).isDirectory()) {
    throw new UserError(
      `ENV_DIR ${envDir} is not a directory`,
      "bin/compile takes BUILD_DIR CACHE_DIR ENV_DIR; pass an existing directory (it may be empty).",
    );
  }
  for (const name of BUILD_CONFIG_VARS) {
    const file = join(envDir, name);
    if (existsSync(file)) config[name] = readFileSync(file, "utf8").replace(/\r?\n$/, "");
  }
  return config;
}

/** What a build with a bad BUILDPACK_VENDOR_URL is told (bin/lib/find-node.sh says it too). */
export const VENDOR_URL_ERROR = "BUILDPACK_VENDOR_URL must be an http or https URL";
export const VENDOR_URL_HINT =
  "Set it to the URL of a web server that serves the vendor artifacts, e.g. https://mirror.example.com/vendor, or unset it.";

function isHttpUrl(raw: string): boolean {
  try {
    const { protocol } = new URL(raw);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

/** The vendor base URL: BUILDPACK_VENDOR_URL or the manifest's. Must be http(s). */
export function vendorBaseUrl(config: BuildConfig, manifestBaseUrl: string): string {
  const raw = config.BUILDPACK_VENDOR_URL ?? manifestBaseUrl;
  if (!isHttpUrl(raw)) {
    if (config.BUILDPACK_VENDOR_URL !== undefined) throw new UserError(VENDOR_URL_ERROR, VENDOR_URL_HINT);
    throw new BuildpackFault("the manifest's baseUrl must be an http or https URL");
  }
  return raw.replace(/\/+$/, "");
}
