import type { RoleState, SummaryLine, TimelineLine } from './timeline';

/** Where the printer writes: process.stdout/stderr in the CLI, buffers in tests. */
export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface PrinterOptions {
  json: boolean;
  out: OutStream;
  /** progress indicator goes here (only when it is a TTY) */
  err: OutStream;
  /** colour: default when `out` is a TTY and NO_COLOR is unset */
  color?: boolean;
  /** progress indicator: default when `err` is a TTY */
  progress?: boolean;
  /** simulated start (epoch ms), to print times of day */
  startMs: number;
}

export interface RunHeader {
  scenario: string;
  description?: string;
  account: string;
  region: string;
  rulesDir: string;
  policyVersion: string;
  functions: string[];
  stateMachines: string[];
  /** where the template came from */
  template?: string;
}

export interface Progress {
  simMs: number;
  step: number;
  steps: number;
  running: number;
}

type Paint = (s: string) => string;
const ansi = (open: number, close: number): Paint => (s) => `\u001b[${open}m${s}\u001b[${close}m`;
const plain: Paint = (s) => s;

/** Renders the run: a coloured (or plain) timeline and report, or one JSON object per line. */
export class TimelinePrinter {
  private readonly c: Record<'dim' | 'bold' | 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan', Paint>;
  private readonly showProgress: boolean;
  private progressShown = false;
  private lastProgressAt = 0;

  constructor(private readonly opts: PrinterOptions) {
    const color = opts.color ?? (!opts.json && opts.out.isTTY === true && !process.env.NO_COLOR);
    this.c = {
      dim: color ? ansi(2, 22) : plain,
      bold: color ? ansi(1, 22) : plain,
      red: color ? ansi(31, 39) : plain,
      green: color ? ansi(32, 39) : plain,
      yellow: color ? ansi(33, 39) : plain,
      blue: color ? ansi(34, 39) : plain,
      magenta: color ? ansi(35, 39) : plain,
      cyan: color ? ansi(36, 39) : plain,
    };
    this.showProgress = opts.progress ?? opts.err.isTTY === true;
  }

  header(h: RunHeader): void {
    if (this.opts.json) return;
    const { bold, dim, yellow } = this.c;
    this.write(`${bold('Warden simulate')} — ${h.scenario}`);
    this.write(yellow(`SIMULATED account ${h.account} (${h.region}): no real AWS, Slack or network is touched.`));
    this.write(dim(`rules ${h.rulesDir} (${h.policyVersion}) · functions ${h.functions.join(', ')}`));
    if (h.stateMachines.length) this.write(dim(`state machines from the synthesized template: ${h.stateMachines.join(', ')}`));
    if (h.template) this.write(dim(`template: ${h.template}`));
    this.write('');
  }

  line(l: TimelineLine): void {
    if (this.opts.json) {
      if (l.type !== 'note') this.opts.out.write(JSON.stringify(l) + '\n');
      return;
    }
    const text = this.render(l);
    if (text !== null) this.write(text);
  }

  /** Updates the one-line progress indicator (TTY only, at most ~10 times a second). */
  progress(p: Progress, nowMs: number): void {
    if (!this.showProgress || nowMs - this.lastProgressAt < 100) return;
    this.lastProgressAt = nowMs;
    const msg = `… simulated ${this.clock(p.simMs)} · step ${p.step}/${p.steps} · ${p.running} workflow${p.running === 1 ? '' : 's'} running`;
    this.opts.err.write(`\r\u001b[2K${this.c.dim(msg)}`);
    this.progressShown = true;
  }

  /** A set-up phase on the progress line (TTY only), e.g. "synthesizing the Warden stack". */
  status(text: string): void {
    if (!this.showProgress) return;
    this.opts.err.write(`\r\u001b[2K${this.c.dim(`… ${text}`)}`);
    this.progressShown = true;
  }

  report(s: SummaryLine): void {
    this.clearProgress();
    if (this.opts.json) {
      this.opts.out.write(JSON.stringify(s) + '\n');
      return;
    }
    const { bold, dim, red, green, yellow } = this.c;
    const rows: string[] = [];
    rows.push('', bold(`Report — SIMULATED account ${s.account}`), '');
    rows.push(`accesses seen     ${s.accesses} (${s.blocked} blocked by the agent)`);
    const byRule = Object.entries(s.decisions.byRule).map(([r, n]) => `${r} ×${n}`).join(', ');
    rows.push(`decisions         ${s.decisions.total}: allow ${s.decisions.allow} · deny ${s.decisions.deny} · unlisted ${s.decisions.unlisted}`);
    if (byRule) rows.push(`  by rule         ${byRule}`);
    rows.push(`workflows         ${s.workflows.length === 0 ? 'none' : s.workflows.length}`);
    for (const w of s.workflows) {
      const st = w.status === 'SUCCEEDED' ? green(w.status) : w.status === 'RUNNING' ? yellow(w.status) : red(w.status);
      rows.push(`  ${w.workflow.padEnd(11)} ${(w.function ?? '-').padEnd(18)} ${st}${w.outcome ? ` (${w.outcome})` : ''}`);
    }
    rows.push(`account changes   ${s.actions} simulated AWS call${s.actions === 1 ? '' : 's'} · ${s.slackMessages} Slack message${s.slackMessages === 1 ? '' : 's'}`);
    const byType = Object.entries(s.actionsByType ?? {}).map(([k, n]) => `${k}${n > 1 ? ` ×${n}` : ''}`);
    for (let i = 0; i < byType.length; i += 4) rows.push(`  ${byType.slice(i, i + 4).join(', ')}`);
    if (s.audit) {
      const types = Object.entries(s.audit.byType).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, n]) => `${k} ×${n}`).join(', ');
      rows.push(`audit trail       ${s.audit.total} entries in ${s.audit.table} (dynalite)${types ? `: ${types}${Object.keys(s.audit.byType).length > 6 ? ', …' : ''}` : ''}`);
    }
    if (s.quarantinedRoles.length) {
      rows.push('quarantined roles');
      for (const r of s.quarantinedRoles) {
        rows.push(`  ${bold(r.function)} (role ${r.role})`);
        rows.push(`    before       ${roleText(r.before)}`);
        if (r.quarantined) rows.push(`    quarantined  ${roleText(r.quarantined)}`);
        const verdict = r.restoredExactly === null ? dim('(not restored)') : r.restoredExactly ? green('✓ equals its snapshot') : red('✗ differs from its snapshot');
        rows.push(`    now          ${roleText(r.after)}  ${verdict}`);
      }
    }
    const acc = `events emitted ${s.emitted} · decided ${s.decided} · dead-lettered ${s.deadLettered} · unaccounted ${s.unaccounted}`;
    rows.push(s.unaccounted === 0 ? acc : red(acc));
    if (s.problems.length) {
      rows.push(red(bold(`problems (${s.problems.length})`)));
      for (const p of s.problems) rows.push(red(`  - ${p}`));
    }
    const t = s.timings;
    rows.push('', `${s.ok ? green(bold('OK')) : red(bold('FAILED'))} — simulated ${s.simulatedDuration} in ${(s.wallMs / 1000).toFixed(1)} s${t && t.setupMs ? dim(` (set-up ${(t.setupMs / 1000).toFixed(1)} s incl. synth ${(t.synthMs / 1000).toFixed(1)} s, timeline ${(t.runMs / 1000).toFixed(1)} s)`) : ''}`);
    for (const r of rows) this.write(r);
  }

  clearProgress(): void {
    if (this.progressShown) {
      this.opts.err.write('\r\u001b[2K');
      this.progressShown = false;
    }
  }

  private write(text: string): void {
    this.clearProgress();
    this.opts.out.write(text + '\n');
  }

  private clock(ms: number): string {
    return new Date(ms).toISOString().slice(11, 19);
  }

  private render(l: TimelineLine): string | null {
    const { dim, bold, red, green, yellow, blue, magenta, cyan } = this.c;
    const at = dim(this.clock(Date.parse(l.t)));
    const tag = (s: string) => s.padEnd(9);
    switch (l.type) {
      case 'note':
        if (l.level === 'problem') return `${at}  ${red(bold(tag('PROBLEM')))} ${red(l.text)}`;
        return l.level === 'step' ? `${at}  ${bold(`▸ ${l.text}`)}` : `${at}  ${dim(`  ${l.text}`)}`;
      case 'access': {
        const extra = [l.mode, l.count > 1 ? `×${l.count}` : ''].filter(Boolean).join(' ');
        const blocked = l.blocked ? ` ${red(bold('BLOCKED by the agent'))}` : '';
        return `${at}  ${cyan(tag('access'))} ${bold(l.function)}  ${l.kind} ${l.target} ${dim(`(${extra})`)}${blocked}`;
      }
      case 'decision': {
        const v = l.verdict === 'allow' ? green('ALLOW') : l.verdict === 'deny' ? red(bold('DENY')) : yellow(bold('UNLISTED'));
        const rule = l.rule ? `rule ${l.rule}` : 'no rule';
        const resp = l.response === 'none' ? dim('→ none') : magenta(`→ ${l.response}`);
        return `${at}  ${blue(tag('decision'))} ${bold(l.function)}  ${v} ${dim(`(${l.severity}, ${rule})`)} ${resp}${l.error ? red(` error: ${l.error}`) : ''}\n${' '.repeat(20)}${dim(l.reason)}`;
      }
      case 'workflow.start':
        return `${at}  ${magenta(tag('workflow'))} ${bold(l.workflow)} started${l.function ? ` for ${l.function}` : ''} ${dim(l.executionId)}`;
      case 'workflow.state':
        return `${at}  ${dim(`${tag('')}   ${l.workflow} › ${l.state}`)}`;
      case 'workflow.end': {
        const st = l.status === 'SUCCEEDED' ? green(l.status) : red(bold(l.status));
        return `${at}  ${magenta(tag('workflow'))} ${bold(l.workflow)} ${st}${l.outcome ? ` — ${l.outcome}` : ''}${l.error ? red(` (${l.error})`) : ''}`;
      }
      case 'action': {
        const params = Object.entries(l.params)
          .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
          .slice(0, 3)
          .map(([k, v]) => `${k}=${String(v).length > 48 ? String(v).slice(0, 45) + '…' : String(v)}`)
          .join(' ');
        return `${at}  ${yellow(tag('action'))}    ${l.service}:${l.action} ${dim(params)} ${l.ok ? dim('[simulated]') : red(`failed: ${l.error}`)}`;
      }
      case 'slack.message': {
        if (l.direction === 'in') {
          const ok = l.accepted ? green('accepted') : red(bold('refused'));
          return `${at}  ${cyan(tag('slack ◂'))} ${l.user ?? '?'} clicked ${bold(l.button ?? '?')} — ${ok}${l.text ? dim(` ${l.text}`) : ''}`;
        }
        return `${at}  ${cyan(tag('slack ▸'))} ${l.channel ?? (l.user ? `@${l.user}` : '')} ${firstLine(l.text)}`;
      }
      case 'policy': {
        const what = l.action === 'publish' ? `${l.by} published ${bold(l.published ?? l.to)}${l.sequence !== undefined ? dim(` (sequence ${l.sequence})`) : ''}` : `${l.by} ${l.killSwitch ? red(bold('engaged the kill switch')) : green('released the kill switch')}`;
        const moved = l.from === l.to ? dim(`version stays ${l.to}`) : `${dim(l.from)} → ${green(l.to)}`;
        const sw = l.switched.length ? `switched: ${l.switched.join(', ')}` : red(bold('nobody switched;'));
        const kept = l.kept.length ? red(`${l.switched.length ? ';' : ''} kept their version: ${l.kept.map((k) => `${k.who} (${k.reason})`).join(', ')}`) : '';
        return `${at}  ${magenta(tag('policy'))} ${what}  ${moved}\n${' '.repeat(20)}${sw}${kept}`;
      }
      case 'summary':
        return null;
    }
  }
}

function firstLine(s: string): string {
  const line = s.split('\n').find((x) => x.trim()) ?? '';
  return line.length > 110 ? line.slice(0, 107) + '…' : line;
}

function roleText(r: RoleState): string {
  const inline = r.inlinePolicies.length ? r.inlinePolicies.join(', ') : '—';
  const managed = r.managedPolicies.length ? r.managedPolicies.map((a) => a.slice(a.lastIndexOf('/') + 1)).join(', ') : '—';
  return `inline ${inline} · managed ${managed} · concurrency ${r.concurrency ?? 'unreserved'}`;
}
