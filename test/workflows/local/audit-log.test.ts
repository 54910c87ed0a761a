import { AuditLog, AuditLogError } from '../../../engine/audit/audit-log';
import { SimClock } from '../../../workflows/local/sim-clock';
import { startDynalite, type Dynalite } from './dynalite';

describe('AuditLog on dynalite', () => {
  let db: Dynalite;
  beforeAll(async () => { db = await startDynalite(['audit']); });
  afterAll(async () => { await db.close(); });

  it('appends entries with clock time and reads a partition back in order', async () => {
    const clock = new SimClock('2026-11-23T18:00:00.000Z');
    const log = new AuditLog({ doc: db.doc, clock });
    await log.record({ pk: 'INC#a1', type: 'quarantine.action', action: 'tag-role' });
    clock.advance(1000);
    const second = await log.append({ pk: 'INC#a1', type: 'quarantine.action', action: 'detach' });
    await log.record({ pk: 'INC#a1', type: 'quarantine.quarantined' });
    await log.record({ pk: 'INC#other', type: 'x' });
    expect(second.time).toBe('2026-11-23T18:00:01.000Z');
    expect(second.sk.startsWith('2026-11-23T18:00:01.000Z#quarantine.action#')).toBe(true);
    const items = await log.list('INC#a1');
    expect(items.map((i) => [i.type, i.action ?? null])).toEqual([['quarantine.action', 'tag-role'], ['quarantine.action', 'detach'], ['quarantine.quarantined', null]]);
    expect((await log.list('INC#a1', ['quarantine.quarantined'])).length).toBe(1);
  });

  it('rejects entries without a proper key or type', async () => {
    const log = new AuditLog({ doc: db.doc, clock: new SimClock() });
    await expect(log.record({ pk: 'nope', type: 'x' })).rejects.toThrow(AuditLogError);
    await expect(log.record({ pk: 'INC#x', type: '' })).rejects.toThrow(/type names what happened/);
  });

  it('reports a table it cannot write to, naming it', async () => {
    const log = new AuditLog({ doc: db.doc, clock: new SimClock(), tableName: 'missing-table' });
    await expect(log.record({ pk: 'INC#x', type: 'x' })).rejects.toThrow(/missing-table/);
  });
});
