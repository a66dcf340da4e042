/**
 * One error type for everything the farm refuses. `message` says what failed and why, `fix` says what to do next:
 * the CLI prints both in one line, the editor shows them in a notification, so nobody has to read a stack trace.
 */
export class FarmError extends Error {
  constructor(
    message: string,
    readonly fix?: string,
    readonly code: string = 'EFARM',
  ) {
    super(message);
    this.name = 'FarmError';
  }

  /** The one sentence a person reads: cause, then the fix. */
  get sentence(): string {
    return this.fix ? `${this.message} ${this.fix}` : this.message;
  }
}

/** Wrong words on the command line: the CLI exits 2 for these, 1 for everything else. */
export class UsageError extends FarmError {
  constructor(message: string, fix?: string) {
    super(message, fix, 'EUSAGE');
    this.name = 'UsageError';
  }
}

export function describeError(err: unknown): string {
  if (err instanceof FarmError) return err.sentence;
  if (err instanceof Error) return err.message;
  return String(err);
}
