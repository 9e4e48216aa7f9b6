/**
 * An error the user can act on: `message` says what is wrong, `hint` how to fix it. The front ends
 * print these without a stack trace; anything else is a bug in the buildpack and is reported as one.
 */
export class UserError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = "UserError";
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
