/**
 * The three printed forms of a trace, laid out as ovn-trace prints them:
 *   detailed: each pipeline or transformation as an underlined section, its tables numbered,
 *             with the matched flow and its actions;
 *   summary:  the actions nested by pipeline in braces;
 *   minimal:  only what changes the packet, and where copies leave (output("port")).
 */
import type { TraceNode } from './engine.js';

type Parent = Extract<TraceNode, { children: TraceNode[] }>;

export function formatDetailed(root: TraceNode): string {
  const out: string[] = [];
  const pad = (n: number): string => ' '.repeat(n);
  /**
   * A section (pipeline or transformation) at column `col`, its tables at `base`. ovn-trace
   * prints a section that its table's actions continue after (clone {…}; more actions) one
   * level in, and its contents two levels in; the copies of a multicast group likewise; the
   * last section of a table continues at the same column, so a trace reads top to bottom.
   */
  const section = (n: Parent, col: number, base: number): void => {
    out.push('', pad(col) + n.title, pad(col) + '-'.repeat(n.title.length));
    const multicast = n.kind === 'transform' && n.title.startsWith('multicast(');
    body(n.children, base, multicast);
  };
  /** Whether a section's own contents include matched tables (an egress copy that ran, not one omitted). */
  const hasTables = (n: TraceNode): boolean => 'children' in n && n.children.some((c) => c.kind === 'table');
  /** A table's children or a section's contents: tables at `col`, actions at col + 4. */
  const body = (children: readonly TraceNode[], col: number, nestAll: boolean): void => {
    children.forEach((c, i) => {
      switch (c.kind) {
        case 'table':
          out.push(pad(col) + c.title);
          body(c.children, col, false);
          return;
        case 'pipeline':
        case 'transform':
          if (i < children.length - 1 || (nestAll && hasTables(c))) section(c, col + 4, col + 8);
          else section(c, col, col);
          return;
        case 'action':
        case 'note':
        case 'error':
          out.push(pad(col + 4) + c.text);
          return;
        default:
          return;
      }
    });
  };
  // ovn-trace starts the detailed form, like every section, with an empty line.
  const top = root as Parent;
  out.push('', top.title, '-'.repeat(top.title.length));
  body(top.children, 0, false);
  return out.join('\n') + '\n';
}

/** Notes that ovn-trace's summary ends with `;` (they stand for actions: output, assumptions). */
const SEMICOLON_NOTES = /^\/\* (output to|We assume|omitting output|Replacing)/;

export function formatSummary(root: TraceNode): string {
  const out: string[] = [];
  const walk = (n: TraceNode, indent: string): void => {
    switch (n.kind) {
      case 'pipeline':
      case 'transform': {
        out.push(`${indent}${n.title} {`);
        for (const c of n.children) walk(c, indent + '    ');
        out.push(`${indent}};`);
        return;
      }
      case 'table':
        for (const c of n.children) walk(c, indent);
        return;
      case 'action':
        out.push(`${indent}${n.text}`);
        return;
      case 'note':
      case 'error':
        out.push(`${indent}${n.text}${SEMICOLON_NOTES.test(n.text) ? ';' : ''}`);
        return;
      default:
        return;
    }
  };
  walk(root, '');
  return out.join('\n') + '\n';
}

export function formatMinimal(root: TraceNode): string {
  const out: string[] = [];
  const walk = (n: TraceNode, indent: string): void => {
    switch (n.kind) {
      case 'pipeline':
      case 'table':
        for (const c of (n as Parent).children) walk(c, indent);
        return;
      case 'transform': {
        // Multicast copies are listed flat; other transformations nest what happened after them.
        if (n.title.startsWith('multicast(')) {
          for (const c of n.children) walk(c, indent);
          return;
        }
        const saved = out.length;
        for (const c of n.children) walk(c, indent + '    ');
        const inner = out.splice(saved);
        if (inner.length === 0) out.push(`${indent}${n.title};`);
        else out.push(`${indent}${n.title} {`, ...inner, `${indent}};`);
        return;
      }
      case 'modify':
        out.push(`${indent}${n.text}`);
        return;
      case 'output':
        out.push(`${indent}output("${n.port}");`);
        return;
      case 'error':
        out.push(`${indent}${n.text}`);
        return;
      case 'note':
        if (n.text.startsWith('/* We assume')) out.push(`${indent}${n.text};`);
        return;
      default:
        return;
    }
  };
  walk(root, '');
  return out.join('\n') + (out.length ? '\n' : '');
}
