import { isBuildpackFault, isUserError } from "../src/core/errors";
import { consoleLog } from "../src/core/log";

/**
 * Runs a factory command's main: a UserError (the host, an option) or a BuildpackFault (our own
 * files or output disagree) is said in Heroku's error format with what to do, and exit 1; anything
 * else is a bug, said with its stack.
 */
export function runEntry(name: string, main: () => Promise<void>): void {
  const log = consoleLog();
  main().catch((e: unknown) => {
    if (isUserError(e)) {
      log.error(`${name}: ${e.message}`);
      if (e.hint) log.error(e.hint);
    } else if (isBuildpackFault(e)) {
      log.error(`${name}: ${e.message}`);
      if (e.fix) log.error(e.fix);
    } else {
      log.error(`${name}: unexpected failure: ${(e as Error).stack ?? String(e)}`);
    }
    process.exitCode = 1;
  });
}
