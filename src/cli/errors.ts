// Errors of the adgen command line: a usage error (bad flags or arguments, exit code 2) and a
// failure (missing file, failed export, exit code 1). Their messages are one line, shown as is.

export class CliError extends Error {
  readonly exitCode: number = 1;
}

export class UsageError extends CliError {
  override readonly exitCode: number = 2;
}
