/**
 * A radix (compressed prefix) tree from literal prefixes to values. `collect(s)` visits every
 * value whose key is a prefix of `s`, walking at most one edge per branch point — so ARN globs
 * grouped by their literal prefix are found without scanning unrelated ones.
 */
interface RadixNode<T> { label: string; children: Map<number, RadixNode<T>> | null; values: T[] | null }

export class RadixTree<T> {
  private readonly root: RadixNode<T> = { label: '', children: null, values: null };
  size = 0;

  insert(key: string, value: T): void {
    this.size++;
    let node = this.root;
    let pos = 0;
    for (;;) {
      if (pos === key.length) { (node.values ??= []).push(value); return; }
      const c = key.charCodeAt(pos);
      const child = node.children?.get(c);
      if (child === undefined) {
        (node.children ??= new Map()).set(c, { label: key.slice(pos), children: null, values: [value] });
        return;
      }
      // length of the common prefix of the edge label and the rest of the key
      const label = child.label;
      let i = 0;
      while (i < label.length && pos + i < key.length && label.charCodeAt(i) === key.charCodeAt(pos + i)) i++;
      if (i === label.length) { node = child; pos += i; continue; }
      // split the edge at i
      const mid: RadixNode<T> = { label: label.slice(0, i), children: new Map(), values: null };
      child.label = label.slice(i);
      mid.children!.set(child.label.charCodeAt(0), child);
      node.children!.set(c, mid);
      node = mid;
      pos += i;
    }
  }

  /** Appends to `out` each value list whose key is a prefix of `s`. */
  collect(s: string, out: T[][]): void {
    let node: RadixNode<T> | undefined = this.root;
    let pos = 0;
    for (;;) {
      if (node.values !== null) out.push(node.values);
      if (node.children === null || pos >= s.length) return;
      const child: RadixNode<T> | undefined = node.children.get(s.charCodeAt(pos));
      if (child === undefined || !s.startsWith(child.label, pos)) return;
      pos += child.label.length;
      node = child;
    }
  }
}
