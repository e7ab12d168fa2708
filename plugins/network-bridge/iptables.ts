// Berth's iptables rules. Every rule lives in a chain of Berth's own, reached from each builtin
// chain by a single jump rule; every rule carries a comment naming the daemon that made it
// (berth:<tag>, the tag from its data root), so a daemon removes exactly its own rules — after a
// crash too — and two daemons can share the chains. Changes go through iptables-restore
// --noflush, one atomic batch per change.
import { run } from '../../lib/host-cmd.js';

export type Table = 'filter' | 'nat';
export interface Rule { table: Table; chain: string; spec: string }

const CHAINS: Record<Table, string[]> = {
  filter: ['BERTH-FORWARD', 'BERTH', 'BERTH-ISOLATION-1', 'BERTH-ISOLATION-2'],
  nat: ['BERTH', 'BERTH-POSTROUTING'],
};
/** The jumps from builtin chains, and the rules the chains need whoever uses them. */
const jumps = (loopback: string): Rule[] => [
  { table: 'filter', chain: 'FORWARD', spec: '-j BERTH-FORWARD' },
  { table: 'nat', chain: 'PREROUTING', spec: '-m addrtype --dst-type LOCAL -j BERTH' },
  { table: 'nat', chain: 'OUTPUT', spec: `! -d ${loopback} -m addrtype --dst-type LOCAL -j BERTH` },
  { table: 'nat', chain: 'POSTROUTING', spec: '-j BERTH-POSTROUTING' },
];
const STRUCTURE: Rule[] = [{ table: 'filter', chain: 'BERTH-FORWARD', spec: '-j BERTH-ISOLATION-1' }];

export class Iptables {
  private ensured = false;
  private ensuring: Promise<void> = Promise.resolve();
  /** iptables, or ip6tables for the IPv6 rules of dual-stack networks (the same chains, the same tag). */
  private readonly cmd: string;
  private readonly JUMPS: Rule[];

  constructor(private readonly tag: string, family: 'ip4' | 'ip6' = 'ip4') {
    this.cmd = family === 'ip6' ? 'ip6tables' : 'iptables';
    this.JUMPS = jumps(family === 'ip6' ? '::1/128' : '127.0.0.0/8');
  }

  private tagged(r: Rule): string {
    return `${r.spec} -m comment --comment berth:${this.tag}`;
  }

  private async restore(lines: Map<Table, string[]>): Promise<void> {
    let script = '';
    for (const [table, l] of lines) if (l.length) script += `*${table}\n${l.join('\n')}\nCOMMIT\n`;
    if (script) await run(`${this.cmd}-restore`, ['-w', '--noflush'], script);
  }

  private static byTable(lines: [Table, string][]): Map<Table, string[]> {
    const m = new Map<Table, string[]>();
    for (const [t, l] of lines) m.set(t, [...(m.get(t) ?? []), l]);
    return m;
  }

  /** Berth's chains and the jumps to them, made once (and again if another daemon removed them);
   * one check at a time, so that concurrent first uses add no jump twice. */
  ensureChains(force = false): Promise<void> {
    if (this.ensured && !force) return Promise.resolve();
    const next = this.ensuring.catch(() => {}).then(() => (this.ensured && !force ? undefined : this.makeChains()));
    this.ensuring = next;
    return next;
  }

  private async makeChains(): Promise<void> {
    const lines: [Table, string][] = [];
    for (const table of ['filter', 'nat'] as Table[]) {
      const saved = await run(`${this.cmd}-save`, ['-t', table]);
      const have = new Set(saved.split('\n').filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]));
      for (const chain of CHAINS[table]) if (!have.has(chain)) lines.push([table, `-N ${chain}`]);
    }
    await this.restore(Iptables.byTable(lines));
    for (const r of [...STRUCTURE, ...this.JUMPS]) {
      const exists = await run(this.cmd, ['-w', '-t', r.table, '-C', r.chain, ...r.spec.split(' ')]).then(() => true, () => false);
      if (!exists) await run(this.cmd, ['-w', '-t', r.table, r.chain === 'FORWARD' ? '-I' : '-A', r.chain, ...(r.chain === 'FORWARD' ? ['1'] : []), ...r.spec.split(' ')]);
    }
    this.ensured = true;
  }

  async add(rules: Rule[]): Promise<void> {
    if (!rules.length) return;
    const batch = Iptables.byTable(rules.map((r) => [r.table, `-A ${r.chain} ${this.tagged(r)}`]));
    // Another daemon may have removed the (then empty) chains since they were made, even while
    // they were being made: make them again, once.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.ensureChains(attempt > 0);
        await this.restore(batch);
        return;
      } catch (err) {
        if (attempt > 0) throw err;
      }
    }
  }

  /** Removes rules; one already gone is not an error. */
  async remove(rules: Rule[]): Promise<void> {
    if (!rules.length) return;
    const lines = rules.map((r): [Table, string] => [r.table, `-D ${r.chain} ${this.tagged(r)}`]);
    try {
      await this.restore(Iptables.byTable(lines));
    } catch {
      for (const [table, l] of lines) await run(this.cmd, ['-w', '-t', table, ...l.split(' ')]).catch(() => {});
    }
  }

  /** Every rule of this daemon's now in place, as iptables-save prints them. */
  async ownRules(): Promise<[Table, string][]> {
    const out: [Table, string][] = [];
    for (const table of ['filter', 'nat'] as Table[]) {
      const saved = await run(`${this.cmd}-save`, ['-t', table]).catch(() => '');
      for (const l of saved.split('\n')) if (l.startsWith('-A ') && l.includes(`berth:${this.tag}`)) out.push([table, l]);
    }
    return out;
  }

  /** Daemon start: whatever an earlier run of this daemon left (after a crash) goes, so that
   * restoring makes no duplicates. */
  async removeOwnRules(): Promise<void> {
    const own = await this.ownRules();
    const lines = own.map(([t, l]): [Table, string] => [t, `-D ${l.slice(3)}`]);
    try {
      await this.restore(Iptables.byTable(lines));
    } catch {
      for (const [table, l] of lines) await run(this.cmd, ['-w', '-t', table, ...splitSaved(l)]).catch(() => {});
    }
  }

  /** Daemon stop: this daemon's rules go; then, table by table, the jumps and chains too when no
   * rule but Berth's own structure is left in them. Each table's removal is one iptables-restore
   * batch, which the kernel applies whole or not at all, and nothing is flushed: `-X` refuses a
   * chain that still holds a rule, so another daemon's rule — even one added after we looked —
   * makes the batch fail and leaves that table's chains and jumps as they were. */
  async teardown(): Promise<void> {
    await this.removeOwnRules();
    for (const table of ['filter', 'nat'] as Table[]) {
      const saved = (await run(`${this.cmd}-save`, ['-t', table]).catch(() => '')).split('\n');
      const have = CHAINS[table].filter((c) => saved.some((l) => l.startsWith(`:${c} `)));
      if (!have.length) continue;
      const structure = STRUCTURE.filter((r) => r.table === table).map((r) => `-A ${r.chain} ${r.spec}`);
      const inChains = saved.filter((l) => have.some((c) => l.startsWith(`-A ${c} `)));
      // Another daemon's rules (or anyone's) keep the chains.
      if (inChains.some((l) => !structure.includes(l))) continue;
      const jumps = saved.filter((l) => l.startsWith('-A ') && !have.some((c) => l.startsWith(`-A ${c} `)) && have.some((c) => l.endsWith(` -j ${c}`)));
      const lines = [...jumps, ...inChains].map((l) => `-D ${l.slice(3)}`).concat(have.map((c) => `-X ${c}`));
      await this.restore(new Map([[table, lines]])).catch(() => {
        // A rule came in meanwhile: that daemon keeps the chains (the batch changed nothing).
      });
    }
    this.ensured = false;
  }
}

/** iptables-save quotes comments; ours have no spaces, so words split on spaces and lose their quotes. */
function splitSaved(line: string): string[] {
  return line.split(' ').filter(Boolean).map((w) => w.replace(/^"(.*)"$/, '$1'));
}

