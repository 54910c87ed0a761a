import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { StandInHosts } from '../stand-in-hosts';
import { AWS_SERVICES, awsEndpointHost } from './aws-services';
import type { ScenarioCall } from './scenario';

export { AWS_SERVICES, awsEndpointHost };

/**
 * The built-in code of a simulated function: it performs the calls a scenario step lists, for
 * real — `http.request`/`https.request`, global `fetch`, AWS SDK v3 clients, raw TCP — so the
 * real agent wrapped around it captures, decides and (in block mode) blocks them exactly as in
 * Lambda. The sockets go to the local stand-ins (see ../stand-in-hosts.ts); nothing leaves
 * 127.0.0.1.
 */

/** The invocation event of the built-in handler: the step's payload and the calls to make. */
export interface RunnerEvent {
  payload?: unknown;
  calls: ScenarioCall[];
}

export interface CallOutcome {
  /** one readable line: "POST https://pastebin.com/api/api_post.php" */
  call: string;
  outcome: 'ok' | 'blocked' | 'error';
  status?: number;
  error?: string;
  expect?: 'ok' | 'blocked';
}

export interface RuntimeDeps {
  standIns: StandInHosts;
  region: string;
  /** default per-call timeout (ms of real time) */
  timeoutMs?: number;
}

/** Credentials the simulated functions' SDK clients sign with: obviously fake, never real ones. */
const SIM_CREDENTIALS = { accessKeyId: 'ASIASIMULATED0000000', secretAccessKey: 'simulated-secret-not-real', sessionToken: 'simulated' };

function isBlocked(err: unknown): boolean {
  for (let e = err as { name?: string; code?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.name === 'AccessDeniedByPolicy' || e.code === 'WARDEN_ACCESS_DENIED') return true;
  }
  return false;
}

function errorText(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { message?: string } };
  return `${e.name ?? 'Error'}: ${e.message ?? String(err)}${e.cause?.message ? ` (${e.cause.message})` : ''}`;
}

export function describeCall(c: ScenarioCall): string {
  if ('http' in c) return `${c.http.method} ${c.http.url}${c.via === 'fetch' ? ' (fetch)' : ''}`;
  if ('aws' in c) return `${c.aws}${typeof c.params.TableName === 'string' ? ` ${c.params.TableName}` : ''}`;
  return `tcp ${c.tcp}`;
}

/** Makes the built-in handler: `(event) => outcomes`, one per call, in order. */
export function builtInHandler(deps: RuntimeDeps): (event: RunnerEvent) => Promise<{ statusCode: number; calls: CallOutcome[] }> {
  const clients = new Map<string, { send(c: unknown): Promise<unknown> }>();
  const agent = deps.standIns.agent();
  const plainAgent = deps.standIns.httpAgent();
  const timeoutMs = deps.timeoutMs ?? 10_000;

  async function client(service: string): Promise<{ send(c: unknown): Promise<unknown> }> {
    const known = AWS_SERVICES[service];
    if (!known) throw new Error(`the simulation has no SDK client for "${service}"; supported: ${Object.keys(AWS_SERVICES).join(', ')}`);
    let c = clients.get(service);
    if (!c) {
      const mod = (await import(known.pkg)) as Record<string, new (cfg: unknown) => { send(c: unknown): Promise<unknown> }>;
      const Client = mod[known.client]!;
      // the regional endpoint as in Lambda (explicit: AWS_ENDPOINT_URL_* is set for users' own handler code)
      c = new Client({ region: deps.region, endpoint: `https://${awsEndpointHost(service, deps.region)}`, credentials: SIM_CREDENTIALS, maxAttempts: 1, forcePathStyle: true, requestHandler: { httpsAgent: agent, httpAgent: plainAgent, requestTimeout: timeoutMs } });
      clients.set(service, c);
    }
    return c;
  }

  async function awsCall(c: Extract<ScenarioCall, { aws: string }>): Promise<number> {
    const [service, action] = c.aws.split(':') as [string, string];
    const cl = await client(service);
    const mod = (await import(AWS_SERVICES[service]!.pkg)) as Record<string, new (input: unknown) => unknown>;
    const Command = mod[`${action}Command`];
    if (!Command) throw new Error(`${AWS_SERVICES[service]!.pkg} has no ${action}Command; check the action name (IAM spelling, e.g. PutItem)`);
    const out = (await cl.send(new Command(c.params))) as { $metadata?: { httpStatusCode?: number } };
    return out.$metadata?.httpStatusCode ?? 200;
  }

  function httpCall(c: Extract<ScenarioCall, { http: unknown }>): Promise<number> {
    const url = new URL(c.http.url);
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<number>((resolve, reject) => {
      const req = mod.request(url, { method: c.http.method, headers: c.headers, agent: url.protocol === 'https:' ? agent : plainAgent, timeout: timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(c.body);
    });
  }

  async function fetchCall(c: Extract<ScenarioCall, { http: unknown }>): Promise<number> {
    const res = await fetch(deps.standIns.urlFor(c.http.url), { method: c.http.method, headers: c.headers, body: c.body, signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  }

  function tcpCall(c: Extract<ScenarioCall, { tcp: string }>): Promise<number> {
    const host = c.tcp.slice(0, c.tcp.lastIndexOf(':'));
    return new Promise<number>((resolve, reject) => {
      const sock = net.connect({ host, port: deps.standIns.port, lookup: deps.standIns.lookup });
      sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`no connection within ${timeoutMs} ms`)));
      sock.on('connect', () => sock.end(c.data, () => resolve(0)));
      sock.on('error', reject);
      sock.resume();
    });
  }

  return async (event) => {
    const calls: CallOutcome[] = [];
    for (const c of event.calls) {
      const line = describeCall(c);
      try {
        const status = 'aws' in c ? await awsCall(c) : 'tcp' in c ? await tcpCall(c) : c.via === 'fetch' ? await fetchCall(c) : await httpCall(c);
        calls.push({ call: line, outcome: 'ok', status, expect: c.expect });
      } catch (err) {
        // the function's own error handling: a blocked call is caught and the invocation goes on
        calls.push({ call: line, outcome: isBlocked(err) ? 'blocked' : 'error', error: errorText(err), expect: c.expect });
      }
    }
    return { statusCode: calls.some((c) => c.outcome !== 'ok') ? 502 : 200, calls };
  };
}
