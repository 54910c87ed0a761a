/**
 * A radix (compressed prefix) tree from literal prefixes to values. `collect(s)` visits every
 * value whose key is a prefix of `s`, walking at most one edge per branch point — so ARN globs
 * grouped by their literal prefix are found without scanning unrelated ones.
 */
interface RadixNode<T> {
  label: string;
  /** the only child, when there is exactly one (no map lookup on the common single-branch path) */
  one: RadixNode<T> | null;
  children: Map<number, RadixNode<T>> | null;
  values: T[] | null;
}

const node = <T>(label: string, values: T[] | null): RadixNode<T> => ({ label, one: null, children: null, values });

function childOf<T>(n: RadixNode<T>, c: number): RadixNode<T> | undefined {
  if (n.one !== null) return n.one.label.charCodeAt(0) === c ? n.one : undefined;
  return n.children === null ? undefined : n.children.get(c);
}

function setChild<T>(n: RadixNode<T>, child: RadixNode<T>): void {
  const c = child.label.charCodeAt(0);
  if (n.children === null) {
    if (n.one === null || n.one.label.charCodeAt(0) === c) { n.one = child; return; }
    n.children = new Map([[n.one.label.charCodeAt(0), n.one]]);
    n.one = null;
  }
  n.children.set(c, child);
}

export class RadixTree<T> {
  private readonly root: RadixNode<T> = node('', null);
  size = 0;

  insert(key: string, value: T): void {
    this.size++;
    let n = this.root;
    let pos = 0;
    for (;;) {
      if (pos === key.length) { (n.values ??= []).push(value); return; }
      const child = childOf(n, key.charCodeAt(pos));
      if (child === undefined) { setChild(n, node(key.slice(pos), [value])); return; }
      // length of the common prefix of the edge label and the rest of the key
      const label = child.label;
      // the whole label matches (the usual case on the way down): one native search
      let i = key.indexOf(label, pos) === pos ? label.length : 0;
      if (i === 0) while (i < label.length && pos + i < key.length && label.charCodeAt(i) === key.charCodeAt(pos + i)) i++;
      if (i === label.length) { n = child; pos += i; continue; }
      // split the edge at i
      const mid = node<T>(label.slice(0, i), null);
      setChild(n, mid); // replaces `child` (same first character) before its label changes
      child.label = label.slice(i);
      setChild(mid, child);
      n = mid;
      pos += i;
    }
  }

  /**
   * Writes each value list whose key is a prefix of `s` into `out` from index `n` on, and returns
   * the new count (the caller reuses `out`: nothing is allocated once it has grown). A label is
   * compared with the native `indexOf` at the position (a JS loop over characters costs ~3× as much,
   * `startsWith` with a position ~4× on Node 20).
   */
  collect(s: string, out: T[][], n: number): number {
    let at: RadixNode<T> = this.root;
    let pos = 0;
    const len = s.length;
    for (;;) {
      if (at.values !== null) out[n++] = at.values;
      if (pos >= len) return n;
      const child = childOf(at, s.charCodeAt(pos));
      if (child === undefined) return n;
      const label = child.label;
      if (label.length > 1 && s.indexOf(label, pos) !== pos) return n;
      pos += label.length;
      at = child;
    }
  }
}
