/** A mistake in the command line: the CLI prints `meshgen: <message>` and exits 2. */
export class UsageError extends Error {}
