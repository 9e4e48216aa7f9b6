/**
 * Who can act on a failure decides how it is said, so each failure is one of two kinds:
 * - UserError: whoever ran the command can fix it (a config var, an argument, the build host);
 *   `message` says what is wrong, `hint` how to fix it.
 * - BuildpackFault: the buildpack's own files disagree (the manifest, an artifact, its SBOM, a
 *   patch series). An app's owner cannot fix that, so the compile step tells them it is ours to
 *   fix; `fix` is for the maintainer, said as it is by the factory (`npm run vendor:build`).
 * The front ends print both without a stack trace; anything else is a bug and is reported as one.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "UserError";
  }
}

export class BuildpackFault extends Error {
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(message);
    this.name = "BuildpackFault";
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

export function isBuildpackFault(e: unknown): e is BuildpackFault {
  return e instanceof BuildpackFault;
}
