import { isUserError } from "../src/core/errors";
import { consoleLog } from "../src/core/log";

/**
 * Runs a factory command's main: a UserError is said in Heroku's error format with its hint and
 * exit 1; anything else is a fault of ours, said with its stack.
 */
export function runEntry(name: string, main: () => Promise<void>): void {
  const log = consoleLog();
  main().catch((e: unknown) => {
    if (isUserError(e)) {
      log.error(`${name}: ${e.message}`);
      if (e.hint) log.error(e.hint);
    } else {
      log.error(`${name}: unexpected failure: ${(e as Error).stack ?? String(e)}`);
    }
    process.exitCode = 1;
  });
}
