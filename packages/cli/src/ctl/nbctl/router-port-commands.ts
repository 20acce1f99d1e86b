/** ovn-nbctl's logical router port commands (lrp-*) and static route commands (lr-route-*). */
import type { Atom } from '../ovsdb.js';
import { setColumn } from '../db-commands.js';
import type { ViewRow } from '../db-txn.js';
import { fail } from '../errors.js';
import type { CommandContext, CommandSpec, PreContext } from '../tool.js';
import {
  normalizeIpv4AddrStr,
  normalizeIpv4PrefixStr,
  normalizeIpv6AddrStr,
  normalizeIpv6PrefixStr,
  normalizePrefixStr,
  parseIpv4Cidr,
  parseIpv6Cidr,
  parseMac,
} from './ip-text.js';
import { byNameOrUuid, LR, LRP, switchName } from './lookup.js';
import { sortedByName } from './switch-commands.js';

function needRouters(ctx: PreContext): void {
  ctx.need('Logical_Router');
  ctx.need('Logical_Router_Port');
  ctx.need('Logical_Router_Static_Route');
}

const uuids = (row: ViewRow, column: string): readonly string[] => (row.get(column) as readonly Atom[]).map(String);

/** Port name → the router that holds it, computed once per invocation. */
function lrpToLr(ctx: CommandContext): Map<string, ViewRow> {
  let m = ctx.state.get('lrp_to_lr') as Map<string, ViewRow> | undefined;
  if (!m) {
    m = new Map();
    for (const lr of ctx.txn.rows('Logical_Router')) {
      for (const u of uuids(lr, 'ports')) {
        const p = ctx.txn.get('Logical_Router_Port', u);
        if (p) m.set(p.string('name'), lr);
      }
    }
    ctx.state.set('lrp_to_lr', m);
  }
  return m;
}

function routerOfPort(ctx: CommandContext, lrp: ViewRow): ViewRow {
  const lr = lrpToLr(ctx).get(lrp.string('name'));
  if (!lr) fail(`logical router port ${lrp.string('name')} is not part of any logical router`);
  return lr;
}

const sameStrings = (a: readonly string[], b: readonly string[]): boolean => {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((s) => y.has(s));
};

const lrpAdd: CommandSpec = {
  name: 'lrp-add',
  minArgs: 4,
  maxArgs: Infinity,
  args: 'ROUTER PORT MAC [NETWORK]...[COLUMN[:KEY]=VALUE]...',
  options: '--may-exist',
  mode: 'RW',
  pre: needRouters,
  run(ctx) {
    const mayExist = ctx.options.has('--may-exist');
    const lr = byNameOrUuid(ctx, LR, ctx.argv[1]!, true);
    const name = ctx.argv[2]!;
    const mac = ctx.argv[3]!;
    const rest = ctx.argv.slice(4);
    const firstSetting = rest.findIndex((a) => a.includes('='));
    const networks = firstSetting < 0 ? rest : rest.slice(0, firstSetting);
    const settings = firstSetting < 0 ? [] : rest.slice(firstSetting);
    if (networks.length === 0) fail(`${name}: router port requires specifying a network`);

    const existing = byNameOrUuid(ctx, LRP, name, false);
    if (existing) {
      if (!mayExist) fail(`${name}: a port with this name already exists`);
      const bound = routerOfPort(ctx, existing);
      if (bound !== lr) fail(`${name}: port already exists but in router ${switchName(bound)}`);
      const zero = [0, 0, 0, 0, 0, 0];
      const ea = parseMac(mac) ?? zero;
      const old = parseMac(existing.string('mac')) ?? zero;
      if (ea.some((b, i) => b !== old[i])) fail(`${name}: port already exists with mac ${existing.string('mac')}`);
      if (!sameStrings(networks, uuids(existing, 'networks'))) fail(`${name}: port already exists with different network`);
      const peerArg = settings.find((s) => s.startsWith('peer='));
      const peer = peerArg?.slice(5);
      const oldPeer = existing.scalar('peer');
      if ((peer === undefined) !== (oldPeer === undefined) || (oldPeer !== undefined && peer !== String(oldPeer))) {
        fail(`${name}: port already exists with mismatching peer`);
      }
      return;
    }

    if (!parseMac(mac)) fail(`${name}: invalid mac address ${mac}`);
    for (const n of networks) {
      if (!parseIpv4Cidr(n) && !parseIpv6Cidr(n)) fail(`${name}: invalid network address: ${n}`);
    }
    const t = ctx.schema.tables.get('Logical_Router_Port')!;
    const lrp = ctx.txn.insert(t);
    ctx.txn.write(lrp, 'name', [name]);
    ctx.txn.write(lrp, 'mac', [mac]);
    ctx.txn.write(lrp, 'networks', [...new Set(networks)].sort());
    for (const s of settings) setColumn(ctx, t, lrp, s);
    ctx.txn.writePartial(lr, 'ports', [...uuids(lr, 'ports').filter((u) => u !== lrp.uuid), lrp.uuid].sort());
    lrpToLr(ctx).set(name, lr);
  },
};

const lrpDel: CommandSpec = {
  name: 'lrp-del',
  minArgs: 1,
  maxArgs: 1,
  args: 'PORT',
  options: '--if-exists',
  mode: 'RW',
  pre: needRouters,
  run(ctx) {
    const lrp = byNameOrUuid(ctx, LRP, ctx.argv[1]!, !ctx.options.has('--if-exists'));
    if (!lrp) return;
    const lr = routerOfPort(ctx, lrp);
    lrpToLr(ctx).delete(ctx.argv[1]!);
    ctx.txn.writePartial(lr, 'ports', uuids(lr, 'ports').filter((u) => u !== lrp.uuid));
    ctx.txn.delete(lrp);
  },
};

const lrpList: CommandSpec = {
  name: 'lrp-list',
  minArgs: 1,
  maxArgs: 1,
  args: 'ROUTER',
  options: '',
  mode: 'RO',
  pre: needRouters,
  run(ctx) {
    const lr = byNameOrUuid(ctx, LR, ctx.argv[1]!, true);
    const ports: ViewRow[] = [];
    for (const u of uuids(lr, 'ports')) {
      const p = ctx.txn.get('Logical_Router_Port', u);
      if (p) ports.push(p);
    }
    ctx.output += sortedByName(ports);
  },
};

/** --policy: whether the route is a source-IP route; undefined policy is dst-ip. */
function policyOption(ctx: CommandContext): { policy: string | undefined; isSrc: boolean } {
  const policy = ctx.options.get('--policy') ?? undefined;
  if (policy !== undefined && policy !== 'src-ip' && policy !== 'dst-ip') fail(`bad policy: ${policy}`);
  return { policy, isSrc: policy === 'src-ip' };
}

const isSrcRoute = (r: ViewRow): boolean => r.scalar('policy') === 'src-ip';

function routes(ctx: CommandContext, lr: ViewRow): ViewRow[] {
  const out: ViewRow[] = [];
  for (const u of uuids(lr, 'static_routes')) {
    const r = ctx.txn.get('Logical_Router_Static_Route', u);
    if (r) out.push(r);
  }
  return out;
}

const lrRouteAdd: CommandSpec = {
  name: 'lr-route-add',
  minArgs: 3,
  maxArgs: 4,
  args: 'ROUTER PREFIX NEXTHOP [PORT]',
  options: '--may-exist,--ecmp,--ecmp-symmetric-reply,--policy=',
  mode: 'RW',
  pre: needRouters,
  run(ctx) {
    const lr = byNameOrUuid(ctx, LR, ctx.argv[1]!, true);
    const { policy, isSrc } = policyOption(ctx);
    let v6 = false;
    let prefix = normalizeIpv4PrefixStr(ctx.argv[2]!);
    if (prefix === undefined) {
      prefix = normalizeIpv6PrefixStr(ctx.argv[2]!);
      v6 = true;
    }
    if (prefix === undefined) fail(`bad prefix argument: ${ctx.argv[2]}`);
    const discard = ctx.argv[3] === 'discard';
    let nextHop = 'discard';
    if (!discard) {
      const nh = v6 ? normalizeIpv6AddrStr(ctx.argv[3]!) : normalizeIpv4AddrStr(ctx.argv[3]!);
      if (nh === undefined) fail(`bad ${v6 ? 'IPv6' : 'IPv4'} nexthop argument: ${ctx.argv[3]}`);
      nextHop = nh;
    }
    const port = ctx.argv[4];
    if (port !== undefined) byNameOrUuid(ctx, LRP, port, true);
    const mayExist = ctx.options.has('--may-exist');
    const symmetric = ctx.options.has('--ecmp-symmetric-reply');
    const ecmp = ctx.options.has('--ecmp') || symmetric;
    const route = routes(ctx, lr).find(
      (r) =>
        isSrcRoute(r) === isSrc &&
        r.string('route_table') === '' &&
        normalizePrefixStr(r.string('ip_prefix')) === prefix &&
        (!ecmp || r.string('nexthop') === nextHop),
    );
    if (discard && ecmp) fail('ecmp is not valid for discard routes.');
    if (!ecmp) {
      if (route) {
        if (!mayExist) fail(`duplicate prefix: ${prefix} (policy: ${isSrc ? 'src-ip' : 'dst-ip'}). Use option --ecmp to allow this for ECMP routing.`);
        ctx.txn.write(route, 'ip_prefix', [prefix]);
        ctx.txn.write(route, 'nexthop', [nextHop]);
        if (port !== undefined) ctx.txn.write(route, 'output_port', [port]);
        if (policy !== undefined) ctx.txn.write(route, 'policy', [policy]);
        return;
      }
    } else if (route) {
      if (!mayExist) fail('duplicate nexthop for the same ECMP route');
      return;
    }
    const r = ctx.txn.insert(ctx.schema.tables.get('Logical_Router_Static_Route')!);
    ctx.txn.write(r, 'ip_prefix', [prefix]);
    ctx.txn.write(r, 'nexthop', [nextHop]);
    if (port !== undefined) ctx.txn.write(r, 'output_port', [port]);
    if (policy !== undefined) ctx.txn.write(r, 'policy', [policy]);
    if (symmetric) ctx.txn.write(r, 'options', [['ecmp_symmetric_reply', 'true']]);
    ctx.txn.writePartial(lr, 'static_routes', [...uuids(lr, 'static_routes'), r.uuid].sort());
  },
};

const lrRouteDel: CommandSpec = {
  name: 'lr-route-del',
  minArgs: 1,
  maxArgs: 4,
  args: 'ROUTER [PREFIX [NEXTHOP [PORT]]]',
  options: '--if-exists,--policy=',
  mode: 'RW',
  pre: needRouters,
  run(ctx) {
    const lr = byNameOrUuid(ctx, LR, ctx.argv[1]!, true);
    const { policy, isSrc } = policyOption(ctx);
    let prefix: string | undefined;
    if (ctx.argv.length >= 3) {
      prefix = normalizePrefixStr(ctx.argv[2]!);
      if (prefix === undefined) fail(`bad prefix argument: ${ctx.argv[2]}`);
    }
    let nextHop: string | undefined;
    if (ctx.argv.length >= 4) {
      nextHop = ctx.argv[3] === 'discard' ? 'discard' : normalizePrefixStr(ctx.argv[3]!);
      if (nextHop === undefined) fail(`bad nexthop argument: ${ctx.argv[3]}`);
    }
    const port = ctx.argv[4];
    const all = routes(ctx, lr);
    if (prefix === undefined && policy === undefined) {
      ctx.txn.write(lr, 'static_routes', []);
      return;
    }
    const removed = all.filter((r) => {
      if (policy !== undefined && isSrcRoute(r) !== isSrc) return false;
      if (prefix !== undefined && normalizePrefixStr(r.string('ip_prefix')) !== prefix) return false;
      if (nextHop !== undefined) {
        const nh = r.string('nexthop') === 'discard' ? 'discard' : normalizePrefixStr(r.string('nexthop'));
        if (nh !== nextHop) return false;
      }
      if (port !== undefined && r.scalar('output_port') !== port) return false;
      return true;
    });
    if (removed.length === 0) {
      if (!ctx.options.has('--if-exists')) {
        fail(`no matching route: policy '${policy ?? 'any'}', prefix '${prefix ?? '(null)'}', nexthop '${nextHop ?? 'any'}', output_port '${port ?? 'any'}'.`);
      }
      return;
    }
    const gone = new Set(removed.map((r) => r.uuid));
    ctx.txn.writePartial(lr, 'static_routes', uuids(lr, 'static_routes').filter((u) => !gone.has(u)));
  },
};

interface ListedRoute {
  readonly route: ViewRow;
  readonly priority: number;
  /** The parsed address, for ordering: 32-bit number or 8 words. */
  readonly addr: readonly number[];
}

function compareAddr(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
}

const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Same table, priority and address: ECMP siblings. */
function routeKeyCmp(a: ListedRoute, b: ListedRoute): number {
  const t = cmpStr(a.route.string('route_table'), b.route.string('route_table'));
  if (t) return t;
  if (a.priority !== b.priority) return a.priority > b.priority ? -1 : 1;
  return compareAddr(a.addr, b.addr);
}

function routeCmp(a: ListedRoute, b: ListedRoute): number {
  const k = routeKeyCmp(a, b);
  if (k) return k;
  const n = cmpStr(a.route.string('nexthop'), b.route.string('nexthop'));
  if (n) return n;
  const pa = a.route.scalar('output_port');
  const pb = b.route.scalar('output_port');
  if (pa !== undefined && pb !== undefined) return cmpStr(String(pa), String(pb));
  return pa !== undefined ? 1 : -1;
}

function printRoute(r: ViewRow, ecmp: boolean): string {
  const prefix = normalizePrefixStr(r.string('ip_prefix')) ?? '(null)';
  const raw = r.string('nexthop');
  const nextHop = raw === 'discard' ? 'discard' : raw === '' ? '' : (normalizePrefixStr(raw) ?? '(null)');
  let s = `${prefix.padStart(25)} ${nextHop.padStart(25)} ${r.string('policy') || 'dst-ip'}`;
  const port = r.scalar('output_port');
  if (port !== undefined) s += ` ${String(port)}`;
  if (r.map('external_ids').has('ic-learned-route')) s += ' (learned)';
  if (ecmp) s += ' ecmp';
  if (r.map('options').get('ecmp_symmetric_reply') === 'true') s += ' ecmp-symmetric-reply';
  if (r.scalar('bfd') !== undefined) s += ' bfd';
  return `${s}\n`;
}

function printRoutes(list: ListedRoute[]): string {
  list.sort(routeCmp);
  let out = '';
  list.forEach((x, i) => {
    const table = x.route.string('route_table');
    if (i === 0 || table !== list[i - 1]!.route.string('route_table')) out += `${i ? '\n' : ''}Route Table ${table || '<main>'}:\n`;
    const ecmp = (i < list.length - 1 && routeKeyCmp(x, list[i + 1]!) === 0) || (i > 0 && routeKeyCmp(x, list[i - 1]!) === 0);
    out += printRoute(x.route, ecmp);
  });
  return out;
}

const lrRouteList: CommandSpec = {
  name: 'lr-route-list',
  minArgs: 1,
  maxArgs: 1,
  args: 'ROUTER',
  options: '',
  mode: 'RO',
  pre: needRouters,
  run(ctx) {
    const lr = byNameOrUuid(ctx, LR, ctx.argv[1]!, true);
    const v4: ListedRoute[] = [];
    const v6: ListedRoute[] = [];
    for (const route of routes(ctx, lr)) {
      const dst = (route.string('policy') || 'dst-ip') === 'dst-ip';
      const p4 = parseIpv4Cidr(route.string('ip_prefix'));
      if (p4) {
        v4.push({ route, priority: dst ? 2 * p4[1] + 1 : 2 * p4[1], addr: [p4[0]] });
        continue;
      }
      const p6 = parseIpv6Cidr(route.string('ip_prefix'));
      if (p6) v6.push({ route, priority: dst ? 2 * p6[1] + 1 : 2 * p6[1], addr: p6[0] });
    }
    if (v4.length) ctx.output += `IPv4 Routes\n${printRoutes(v4)}`;
    if (v6.length) ctx.output += `${v4.length ? '\n' : ''}IPv6 Routes\n${printRoutes(v6)}`;
  },
};

export const ROUTER_PORT_COMMANDS: readonly CommandSpec[] = [lrpAdd, lrpDel, lrpList, lrRouteAdd, lrRouteDel, lrRouteList];
