import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConcurrentUpdateError, StoreError } from './errors';
import { sha256Hex } from './signing';
import { assertValidKey, MAX_OBJECT_BYTES, type PolicyStore, type PutOptions, type StoredObject } from './store';

/**
 * A store in a local directory: the same layout as S3, for local runs, tests and CI dry runs.
 * Writes go to a temporary file that is then renamed (or hard-linked for "if absent"), so a reader
 * never sees a half-written object. `ifMatch` is checked then renamed: safe for one publisher at a
 * time, which is what a local directory is for.
 */
export class LocalDirectoryStore implements PolicyStore {
  readonly url: string;
  private readonly root: string;

  constructor(dir: string) {
    this.root = resolve(dir);
    this.url = pathToFileURL(this.root).href;
  }

  private path(key: string): string {
    assertValidKey(key);
    return join(this.root, ...key.split('/'));
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const file = this.path(key);
    try {
      const info = await stat(file);
      if (info.size > MAX_OBJECT_BYTES) throw new StoreError(`${this.url}/${key} is ${info.size} bytes, over the ${MAX_OBJECT_BYTES}-byte limit; refusing to load it`);
      const body = await readFile(file);
      return { body: new Uint8Array(body), etag: `"${sha256Hex(body)}"` };
    } catch (err) {
      if (err instanceof StoreError) throw err;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoreError(`cannot read ${this.url}/${key}: ${(err as Error).message}`, { cause: err });
    }
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<void> {
    const file = this.path(key);
    const tmp = join(dirname(file), `.${randomBytes(8).toString('hex')}.tmp`);
    try {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(tmp, body, { mode: 0o644 });
      if (options.ifMatch !== undefined) {
        const current = await this.get(key);
        if (!current || current.etag !== options.ifMatch) {
          throw new ConcurrentUpdateError(`${this.url}/${key} changed since it was read (another publish?); re-run the command`);
        }
      }
      if (options.ifAbsent) {
        try {
          await link(tmp, file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ConcurrentUpdateError(`${this.url}/${key} already exists`, { cause: err });
          throw err;
        }
      } else {
        await rename(tmp, file);
      }
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(`cannot write ${this.url}/${key}: ${(err as Error).message}`, { cause: err });
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }
}
