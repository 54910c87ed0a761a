import { randomUUID } from 'node:crypto';
import { routeEvent, type RoutedTarget } from '../event-pattern';

/**
 * The `warden` bus of the simulation: entries accepted by the local PutEvents endpoint become
 * EventBridge events (the envelope EventBridge delivers), are routed by the event patterns of the
 * synthesized template's rules, and are delivered to the local stand-ins of their targets.
 * Delivery is asynchronous like EventBridge's; a Lambda target that keeps failing is retried as
 * its EventInvokeConfig says, then dead-lettered (counted, never dropped silently).
 */
export interface PutEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  Time?: Date | string | number;
  EventBusName?: string;
}

export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

export type TargetHandler = (target: RoutedTarget, event: BusEvent) => Promise<void>;

export interface BusOptions {
  template: { Resources?: Record<string, unknown> };
  /** the bus name entries must name (or its ARN); routing only uses rules on this bus */
  busName: string;
  account: string;
  region: string;
  nowMs: () => number;
  /** delivers to one target; throws when the target failed */
  deliver: TargetHandler;
  /** runs and tracks async delivery work */
  track: (p: Promise<unknown>) => void;
  /** an event was accepted (before routing) */
  onEvent?: (event: BusEvent) => void;
  /** a delivery failed after its retries and went to the dead-letter queue */
  onDeadLetter?: (target: RoutedTarget, event: BusEvent, error: unknown) => void;
  /** an event matched no rule */
  onUnrouted?: (event: BusEvent) => void;
}

export class BusError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BusError';
  }
}

export class LocalBus {
  readonly deadLetters: { target: RoutedTarget; event: BusEvent; error: string }[] = [];
  private readonly retries = new Map<string, number>();

  constructor(private readonly opts: BusOptions) {
    for (const r of Object.values(opts.template.Resources ?? {})) {
      const res = r as { Type?: string; Properties?: { FunctionName?: unknown; MaximumRetryAttempts?: unknown } };
      if (res.Type !== 'AWS::Lambda::EventInvokeConfig') continue;
      const fn = res.Properties?.FunctionName as { Ref?: string } | string | undefined;
      const target = typeof fn === 'string' ? fn : fn?.Ref;
      if (target && typeof res.Properties?.MaximumRetryAttempts === 'number') this.retries.set(target, res.Properties.MaximumRetryAttempts);
    }
  }

  /** Accepts events the PutEvents endpoint accepted (their EventBridge envelopes); routing and delivery run asynchronously. */
  accept(envelopes: BusEvent[], busName: string): void {
    for (const event of envelopes) {
      this.opts.onEvent?.(event);
      const targets = routeEvent(this.opts.template, event, { bus: this.busKey(busName) });
      if (targets.length === 0) this.opts.onUnrouted?.(event);
      for (const t of targets) this.opts.track(this.deliver(t, event));
    }
  }

  /** Puts entries on the bus directly (for service integrations such as `events:putEvents` in a state machine). */
  put(entries: PutEntry[]): string[] {
    const out: string[] = [];
    for (const e of entries) {
      const event = this.envelope(e);
      this.accept([event], e.EventBusName ?? this.opts.busName);
      out.push(event.id);
    }
    return out;
  }

  private busKey(name: string | undefined): string {
    if (!name) return 'default';
    return name.startsWith('arn:') ? name.slice(name.lastIndexOf('/') + 1) : name;
  }

  private envelope(e: PutEntry): BusEvent {
    let detail: unknown;
    try {
      detail = e.Detail === undefined ? {} : JSON.parse(e.Detail);
    } catch (err) {
      throw new BusError(`entry ${e.Source}/${e.DetailType} has a Detail that is not JSON`, { cause: err });
    }
    const t = e.Time === undefined ? this.opts.nowMs() : new Date(e.Time).getTime();
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': e.DetailType ?? '',
      source: e.Source ?? '',
      account: this.opts.account,
      time: new Date(Number.isFinite(t) ? t : this.opts.nowMs()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.opts.region,
      resources: e.Resources ?? [],
      detail,
    };
  }

  private async deliver(target: RoutedTarget, event: BusEvent): Promise<void> {
    // Lambda async invocation retries a failing function (EventInvokeConfig), then its on-failure destination takes the event
    const attempts = target.kind === 'function' ? 1 + (this.retries.get(target.targetLogicalId ?? '') ?? 2) : 1 + Math.min(target.retryPolicy?.MaximumRetryAttempts ?? 0, 2);
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
      try {
        await this.opts.deliver(target, event);
        return;
      } catch (err) {
        last = err;
      }
    }
    this.deadLetters.push({ target, event, error: (last as Error)?.message ?? String(last) });
    this.opts.onDeadLetter?.(target, event, last);
  }
}
