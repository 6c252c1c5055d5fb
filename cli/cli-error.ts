/** An error whose message is all a person needs to act on: the CLI prints it as one line, no stack. */
export class CliError extends Error {
  override readonly name = 'CliError';
}
