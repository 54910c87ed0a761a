import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TABLES, type TableName } from '../../../engine/audit/tables';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (opts: Record<string, unknown>) => Server;

export interface Dynalite { client: DynamoDBClient; doc: DynamoDBDocumentClient; close(): Promise<void> }

/** In-memory dynalite on a random localhost port with the given Warden tables. */
export async function startDynalite(tables: TableName[]): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  for (const name of tables) {
    const t = TABLES[name];
    const keys = [{ AttributeName: t.partitionKey, KeyType: 'HASH' as const }, ...(t.sortKey ? [{ AttributeName: t.sortKey, KeyType: 'RANGE' as const }] : [])];
    await client.send(new CreateTableCommand({ TableName: t.defaultName, KeySchema: keys, AttributeDefinitions: keys.map((k) => ({ AttributeName: k.AttributeName, AttributeType: 'S' as const })), BillingMode: 'PAY_PER_REQUEST' }));
  }
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { client, doc, close: async () => { client.destroy(); await new Promise<void>((r) => server.close(() => r())); } };
}
