import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalDirectoryStore } from '../../engine/distribution/local-store';
import { bundleKeys } from '../../engine/distribution/store';
import { ConcurrentUpdateError, StoreError } from '../../engine/distribution/errors';
import { tempDir } from './helpers';

describe('local directory store', () => {
  it('returns undefined for a missing key, and what was written otherwise', async () => {
    const store = new LocalDirectoryStore(tempDir());
    await expect(store.get('current.json')).resolves.toBeUndefined();
    await store.put('bundles/a.json', Buffer.from('one'));
    const got = await store.get('bundles/a.json');
    expect(Buffer.from(got!.body).toString()).toBe('one');
    expect(got!.etag).toMatch(/^"[0-9a-f]{64}"$/);
  });

  it('"if absent" refuses to replace an object; temporary files never remain', async () => {
    const dir = tempDir();
    const store = new LocalDirectoryStore(dir);
    await store.put('x.json', Buffer.from('1'), { ifAbsent: true });
    await expect(store.put('x.json', Buffer.from('2'), { ifAbsent: true })).rejects.toThrow(ConcurrentUpdateError);
    expect(Buffer.from((await store.get('x.json'))!.body).toString()).toBe('1');
    expect(readdirSync(dir)).toEqual(['x.json']);
  });

  it('"if match" writes only over the version that was read', async () => {
    const store = new LocalDirectoryStore(tempDir());
    await store.put('current.json', Buffer.from('1'));
    const { etag } = (await store.get('current.json'))!;
    await store.put('current.json', Buffer.from('2'), { ifMatch: etag });
    await expect(store.put('current.json', Buffer.from('3'), { ifMatch: etag })).rejects.toThrow(/changed since it was read/);
  });

  it('never reads or writes outside its directory', async () => {
    const dir = tempDir();
    const store = new LocalDirectoryStore(join(dir, 'store'));
    for (const key of ['../escape.json', '/etc/passwd', 'a//b', 'a/./b', '.hidden/../x', '']) {
      await expect(store.put(key, Buffer.from('x'))).rejects.toThrow(StoreError);
      await expect(store.get(key)).rejects.toThrow(/invalid store key/);
    }
    expect(existsSync(join(dir, 'escape.json'))).toBe(false);
  });

  it('derives content-addressed keys from a policy version only', () => {
    expect(bundleKeys('sha256:0123456789abcdef')).toEqual({ bundle: 'bundles/sha256-0123456789abcdef.json', signature: 'bundles/sha256-0123456789abcdef.sig' });
    expect(() => bundleKeys('sha256:../../x')).toThrow(/not a policy version/);
  });
});
