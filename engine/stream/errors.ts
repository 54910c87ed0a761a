/** Errors of the streaming reader. Each class sets `name` and keeps `cause`. */
export class StreamError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StreamError';
  }
}

/** The input could not be opened or read (missing file, permission, I/O error). */
export class UnreadableInputError extends StreamError {
  constructor(readonly input: string, options?: { cause?: unknown }) {
    const why = (options?.cause as NodeJS.ErrnoException | undefined)?.code ?? (options?.cause as Error | undefined)?.message ?? 'unknown error';
    super(`cannot read input "${input}" (${why}): check the path and permissions, or pass "-" to read stdin`, options);
    this.name = 'UnreadableInputError';
  }
}
