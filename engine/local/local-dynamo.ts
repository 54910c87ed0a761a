import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, type AttributeDefinition, type KeySchemaElement } from '@aws-sdk/client-dynamodb';

/**
 * An in-memory dynalite (a DynamoDB implementation on LevelDB) on 127.0.0.1, with tables created
 * from the AWS::DynamoDB::Table resources of a synthesized template — named as the local runner
 * names them (their TableName, else their logical id), so the env the template gives the Lambdas
 * points at them. Reached through the real @aws-sdk/client-dynamodb.
 */
export class LocalDynamoError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalDynamoError';
  }
}

export interface LocalDynamo {
  endpoint: string;
  port: number;
  client: DynamoDBClient;
  /** logical id → table name */
  tables: Record<string, string>;
  /** create one more table (e.g. application data of a simulated function) */
  createTable(name: string, partitionKey: string, sortKey?: string): Promise<void>;
  close(): Promise<void>;
}

interface TableResource {
  Type: string;
  Properties?: { TableName?: unknown; KeySchema?: KeySchemaElement[]; AttributeDefinitions?: AttributeDefinition[] };
}

/** Credentials dynalite accepts (it checks the signature shape, not the secret); never real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'SIMULATED', secretAccessKey: 'SIMULATED' } as const;

export async function startLocalDynamo(opts: { template?: { Resources?: Record<string, unknown> }; region?: string } = {}): Promise<LocalDynamo> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (o: Record<string, unknown>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: opts.region ?? 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 2 });
  const tables: Record<string, string> = {};
  const createTable = async (name: string, pk: string, sk?: string) => {
    await client.send(new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: pk, KeyType: 'HASH' }, ...(sk ? [{ AttributeName: sk, KeyType: 'RANGE' as const }] : [])],
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: 'S' }, ...(sk ? [{ AttributeName: sk, AttributeType: 'S' as const }] : [])],
    }));
  };
  try {
    for (const [logicalId, r] of Object.entries(opts.template?.Resources ?? {})) {
      const res = r as TableResource;
      if (res.Type !== 'AWS::DynamoDB::Table') continue;
      const p = res.Properties ?? {};
      const name = typeof p.TableName === 'string' ? p.TableName : logicalId;
      if (!p.KeySchema?.length || !p.AttributeDefinitions?.length) throw new LocalDynamoError(`table ${logicalId} in the template has no KeySchema/AttributeDefinitions`);
      const keyNames = new Set(p.KeySchema.map((k) => k.AttributeName));
      await client.send(new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: p.KeySchema,
        // GSIs are not needed locally; only key attributes may be defined without an index
        AttributeDefinitions: p.AttributeDefinitions.filter((a) => keyNames.has(a.AttributeName)),
      }));
      tables[logicalId] = name;
    }
  } catch (err) {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err instanceof LocalDynamoError ? err : new LocalDynamoError(`cannot create the template's tables in dynalite: ${(err as Error).message}`, { cause: err });
  }
  return {
    endpoint,
    port,
    client,
    tables,
    createTable,
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
