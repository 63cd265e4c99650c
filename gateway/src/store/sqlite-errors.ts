// Turns SQLite failures into StoreUnavailableError values a person can act on.
import { StoreUnavailableError } from './types.js';

export const RETRY_AFTER_SECONDS = 5;

function sqliteCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What went wrong with a write, in words, plus the code the spot's 503 carries. */
export function toUnavailable(err: unknown, dbPath: string): StoreUnavailableError {
  if (err instanceof StoreUnavailableError) return err;
  const code = sqliteCode(err);
  if (code === 'SQLITE_FULL') {
    return new StoreUnavailableError(
      `store ${dbPath}: disk full (${code}); free space on the data dir's file system`,
      'full',
      RETRY_AFTER_SECONDS,
    );
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' || code === 'SQLITE_CANTOPEN') {
    return new StoreUnavailableError(
      `store ${dbPath}: cannot write (${code}: ${describe(err)}); check that the data dir is writable`,
      'io',
      RETRY_AFTER_SECONDS,
    );
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new StoreUnavailableError(
      `store ${dbPath}: I/O error (${code}: ${describe(err)}); check the disk and the data dir`,
      'io',
      RETRY_AFTER_SECONDS,
    );
  }
  return new StoreUnavailableError(
    `store ${dbPath}: write failed (${code || 'error'}: ${describe(err)})`,
    'io',
    RETRY_AFTER_SECONDS,
  );
}

export function closedError(dbPath: string): StoreUnavailableError {
  return new StoreUnavailableError(`store ${dbPath}: closed`, 'closed', RETRY_AFTER_SECONDS);
}
