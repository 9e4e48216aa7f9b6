import { UserError } from "../core/errors";

const UBUNTU_TO_STACK: Record<string, string> = {
  "20.04": "heroku-20",
  "22.04": "heroku-22",
  "24.04": "heroku-24",
  "26.04": "heroku-26",
};

/**
 * The Heroku stack whose artifacts a CNB build installs, from the target the lifecycle describes
 * (CNB_TARGET_DISTRO_*, platform API 0.12+), else the older CNB_STACK_ID.
 */
export function stackFromCnbEnv(env: NodeJS.ProcessEnv): string {
  const distro = env.CNB_TARGET_DISTRO_NAME;
  const version = env.CNB_TARGET_DISTRO_VERSION;
  if (distro && version) {
    const stack = distro === "ubuntu" ? UBUNTU_TO_STACK[version] : undefined;
    if (!stack) {
      throw new UserError(`unsupported build target ${distro} ${version}`, `Supported: ubuntu ${Object.keys(UBUNTU_TO_STACK).join(", ")}.`);
    }
    return stack;
  }
  if (env.CNB_STACK_ID) return env.CNB_STACK_ID;
  throw new UserError("the lifecycle set neither CNB_TARGET_DISTRO_NAME/VERSION nor CNB_STACK_ID", "Build with a builder based on Ubuntu 20.04 to 26.04 (e.g. heroku/builder:24).");
}
