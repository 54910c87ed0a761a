import type { Clock } from '../common/clock';

/**
 * A simulated clock: time moves only when told to (`advance`, `advanceTo`, `advanceToNextTimer`),
 * and timers set on it fire in order as it passes them. Hour-long waits and task timeouts of the
 * local runner use it, so they pass instantly and deterministically.
 */
export class SimClockError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SimClockError';
  }
}

export interface SimTimer {
  readonly id: number;
  readonly dueMs: number;
  readonly label: string;
  cancel(): void;
}

interface TimerEntry { id: number; dueMs: number; label: string; fn: () => void; cancelled: boolean }

export class SimClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: TimerEntry[] = [];

  /** `start`: an ISO time or epoch milliseconds (default 2026-11-23T18:00:00Z, fixed so runs are reproducible). */
  constructor(start: string | number = '2026-11-23T18:00:00.000Z') {
    const ms = typeof start === 'number' ? start : Date.parse(start);
    if (!Number.isFinite(ms)) throw new SimClockError(`invalid start time ${JSON.stringify(start)}: give an ISO 8601 time or epoch milliseconds`);
    this.current = ms;
  }

  nowMs(): number { return this.current; }
  iso(): string { return new Date(this.current).toISOString(); }

  /** Runs `fn` once the clock has moved `delayMs` past now. */
  setTimer(delayMs: number, fn: () => void, label = 'timer'): SimTimer {
    if (!Number.isFinite(delayMs) || delayMs < 0) throw new SimClockError(`timer "${label}": delay must be a finite number of milliseconds >= 0, got ${delayMs}`);
    const entry: TimerEntry = { id: ++this.seq, dueMs: this.current + delayMs, label, fn, cancelled: false };
    this.timers.push(entry);
    this.timers.sort((a, b) => a.dueMs - b.dueMs || a.id - b.id);
    return {
      id: entry.id, dueMs: entry.dueMs, label,
      cancel: () => { entry.cancelled = true; this.timers = this.timers.filter((t) => t !== entry); },
    };
  }

  /** Due time of the earliest pending timer, if any. */
  nextTimerAt(): number | undefined { return this.timers[0]?.dueMs; }
  pendingTimers(): { dueMs: number; label: string }[] { return this.timers.map((t) => ({ dueMs: t.dueMs, label: t.label })); }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new SimClockError(`advance: expected milliseconds >= 0, got ${ms}; simulated time never goes backwards`);
    this.advanceTo(this.current + ms);
  }

  advanceTo(targetMs: number): void {
    if (targetMs < this.current) throw new SimClockError(`advanceTo: ${new Date(targetMs).toISOString()} is before now (${this.iso()}); simulated time never goes backwards`);
    for (;;) {
      const next = this.timers[0];
      if (!next || next.dueMs > targetMs) break;
      this.timers.shift();
      this.current = Math.max(this.current, next.dueMs);
      if (!next.cancelled) next.fn();
    }
    this.current = targetMs;
  }

  /** Jumps to the earliest pending timer and fires it (and any due at the same instant). False when none is pending. */
  advanceToNextTimer(): boolean {
    const at = this.nextTimerAt();
    if (at === undefined) return false;
    this.advanceTo(Math.max(at, this.current));
    return true;
  }
}
