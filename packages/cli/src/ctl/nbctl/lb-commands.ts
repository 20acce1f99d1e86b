/** ovn-nbctl's load balancer commands: lb-add/del/list, ls-lb-add/del/list, lr-lb-add/del/list. */
import { isIPv4 } from 'node:net';
import type { ViewRow } from '../db-txn.js';
import { fail } from '../errors.js';
import type { CommandContext, CommandSpec, PreContext } from '../tool.js';
import { ipv6ToString, parseIpv6 } from './ip-text.js';
import { byNameOrUuid, LR, LS } from './lookup.js';
import { addRef, cmpStr, delRef, LB, logErr, padTrunc, refs } from './nb-util.js';

function needLbs(ctx: PreContext): void {
  for (const t of ['Load_Balancer', 'Load_Balancer_Group', 'Logical_Switch', 'Logical_Router']) ctx.need(t);
}

interface SockAddr {
  readonly v6: boolean;
  /** The address as inet_ntop writes it. */
  readonly addr: string;
  readonly port: number;
}

/**
 * OVS's inet_parse_active(target, 0, ...) without name resolution: "IP", "IP:PORT",
 * "[IPv6]", "[IPv6]:PORT", or a bare IPv6 address. Logs as socket_util does; undefined on error.
 */
function parseSockAddr(ctx: CommandContext, target: string): SockAddr | undefined {
  let host: string;
  let port: string | undefined;
  if (target.startsWith('[')) {
    const close = target.indexOf(']');
    host = close < 0 ? target.slice(1) : target.slice(1, close);
    const rest = close < 0 ? '' : target.slice(close + 1);
    if (rest.startsWith(':')) port = rest.slice(1);
  } else {
    const colons = target.split(':').length - 1;
    if (colons > 1) {
      host = target;
    } else if (colons === 1) {
      const i = target.indexOf(':');
      host = target.slice(0, i);
      port = target.slice(i + 1);
    } else {
      host = target;
    }
  }
  let portNum = 0;
  if (port !== undefined && port !== '') {
    const n = /^\s*[+-]?\d+$/.test(port) ? Number(port) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      logErr(ctx, 'socket_util', `${target}: bad port number "${port}"`);
      return undefined;
    }
    portNum = n;
  }
  if (!host.includes(':') && isIPv4(host)) return { v6: false, addr: host.split('.').map(Number).join('.'), port: portNum };
  const w = host.includes(':') ? parseIpv6(host) : undefined;
  if (w) return { v6: true, addr: ipv6ToString(w), port: portNum };
  logErr(ctx, 'socket_util', `${target}: bad IP address "${host}"`);
  return undefined;
}

const lbAdd: CommandSpec = {
  name: 'lb-add',
  minArgs: 3,
  maxArgs: 4,
  args: 'LB VIP[:PORT] IP[:PORT]... [PROTOCOL]',
  options: '--may-exist,--add-duplicate,--reject,--event,--add-route',
  mode: 'RW',
  pre: needLbs,
  run(ctx) {
    const [, name, vipArg, ipsArg] = ctx.argv as [string, string, string, string];
    const mayExist = ctx.options.has('--may-exist');
    const addDuplicate = ctx.options.has('--add-duplicate');
    const reject = ctx.options.has('--reject');
    const event = ctx.options.has('--event');
    const addRoute = ctx.options.has('--add-route');
    if (reject && event) fail("--reject and --event can't specified at the same time");
    const updateProto = ctx.argv.length > 4;
    const proto = updateProto ? ctx.argv[4]! : 'tcp';
    if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') fail(`${proto}: protocol must be one of "tcp", "udp",  or "sctp".`);
    const vip = parseSockAddr(ctx, vipArg);
    if (!vip) fail(`${vipArg}: should be an IP address (or an IP address and a port number with : as a separator).`);
    const vipKey = vip.port ? `${vip.v6 ? `[${vip.addr}]` : vip.addr}:${vip.port}` : vip.addr;
    if (!vip.port && updateProto) fail('Protocol is unnecessary when no port of vip is given.');
    const backends: string[] = [];
    for (const token of ipsArg.split(',').filter((t) => t !== '')) {
      const dst = parseSockAddr(ctx, token);
      if (vip.port) {
        if (!dst || !dst.port) fail(`${token}: should be an IP address and a port number with : as a separator.`);
      } else if (!dst || dst.port || (token.includes(':') && !dst.v6)) {
        fail(`${token}: should be an IP address.`);
      }
      if (dst.v6 !== vip.v6) fail(`${token}: IP address family is different from VIP ${vip.addr}.`);
      backends.push(token);
    }
    const value = backends.join(',');
    if (!addDuplicate) {
      const lb = byNameOrUuid(ctx, LB, name, false);
      if (lb) {
        const vips = lb.map('vips');
        if (vips.has(vipKey) && !mayExist) fail(`${name}: a load balancer with this vip (${vipKey}) already exists`);
        vips.set(vipKey, value);
        if (updateProto) {
          ctx.txn.verify(lb, 'protocol');
          ctx.txn.write(lb, 'protocol', [proto]);
        }
        ctx.txn.verify(lb, 'vips');
        ctx.txn.write(lb, 'vips', [...vips].sort((a, b) => cmpStr(a[0], b[0])));
        return;
      }
    }
    const lb = ctx.txn.insert(ctx.schema.tables.get('Load_Balancer')!);
    ctx.txn.write(lb, 'name', [name]);
    ctx.txn.write(lb, 'protocol', [proto]);
    ctx.txn.write(lb, 'vips', [[vipKey, value]]);
    const options: [string, string][] = [];
    if (addRoute) options.push(['add_route', 'true']);
    if (event) options.push(['event', 'true']);
    if (reject) options.push(['reject', 'true']);
    ctx.txn.write(lb, 'options', options);
  },
};

const lbDel: CommandSpec = {
  name: 'lb-del',
  minArgs: 1,
  maxArgs: 2,
  args: 'LB [VIP]',
  options: '--if-exists',
  mode: 'RW',
  pre: needLbs,
  run(ctx) {
    const lb = byNameOrUuid(ctx, LB, ctx.argv[1]!, false);
    if (!lb) return;
    if (ctx.argv.length === 3) {
      const vip = ctx.argv[2]!;
      const vips = lb.map('vips');
      if (vips.has(vip)) {
        vips.delete(vip);
        if (vips.size === 0) {
          ctx.txn.delete(lb);
          return;
        }
        ctx.txn.verify(lb, 'vips');
        ctx.txn.write(lb, 'vips', [...vips]);
        return;
      }
      if (!ctx.options.has('--if-exists')) fail(`vip ${vip} is not part of the load balancer.`);
      return;
    }
    ctx.txn.delete(lb);
  },
};

/** The widest VIP of these load balancers. */
function vipWidth(lbs: readonly ViewRow[]): number {
  let w = 0;
  for (const lb of lbs) for (const k of lb.map('vips').keys()) w = Math.max(w, k.length);
  return w;
}

/** lb_info_add_smap + lb_info_print: a table of the load balancers, sorted by (truncated) name. */
function printLbs(ctx: CommandContext, lbs: readonly ViewRow[]): void {
  const width = vipWidth(lbs);
  const vipCol = (s: string): string => padTrunc(s, width + 4, width);
  const entries: { key: string; value: string }[] = [];
  for (const lb of lbs) {
    const vips = [...lb.map('vips')].sort((a, b) => cmpStr(a[0], b[0]));
    if (vips.length === 0) continue;
    const template = lb.map('options').get('template') === 'true';
    let value = '';
    let first = true;
    for (const [k, v] of vips) {
      let protocol = lb.string('protocol');
      if (!template) {
        const ss = parseSockAddrQuiet(k);
        if (!ss) {
          first = false;
          continue;
        }
        if (!ss.port) protocol = '';
      }
      value += first
        ? `${lb.uuid}    ${padTrunc(lb.string('name'), 20, 16)}${padTrunc(protocol, 11, 7)}${vipCol(k)}${v}`
        : `\n${''.padStart(60)}${padTrunc(protocol, 11, 7)}${vipCol(k)}${v}`;
      first = false;
    }
    entries.push({ key: padTrunc(lb.string('name'), 20, 16), value });
  }
  if (entries.length === 0) return;
  entries.sort((a, b) => cmpStr(a.key, b.key) || cmpStr(a.value, b.value));
  ctx.output += `${padTrunc('UUID', 40, 36)}${padTrunc('LB', 20, 16)}${padTrunc('PROTO', 11, 7)}${vipCol('VIP')}IPs\n`;
  for (const e of entries) ctx.output += `${e.value}\n`;
}

/** parseSockAddr without logging (for listing existing VIPs). */
function parseSockAddrQuiet(target: string): SockAddr | undefined {
  const silent = { log: { seq: 0, write: () => undefined } } as unknown as CommandContext;
  return parseSockAddr(silent, target);
}

const lbList: CommandSpec = {
  name: 'lb-list',
  minArgs: 0,
  maxArgs: 1,
  args: '[LB]',
  options: '',
  mode: 'RO',
  pre: needLbs,
  run(ctx) {
    const name = ctx.argv[1];
    printLbs(ctx, ctx.txn.rows('Load_Balancer').filter((lb) => name === undefined || lb.string('name') === name));
  },
};

interface Holder {
  readonly kind: typeof LS | typeof LR;
  /** "switch" / "router" in "is not part of any logical ...". */
  readonly noun: string;
}

const SWITCH: Holder = { kind: LS, noun: 'switch' };
const ROUTER: Holder = { kind: LR, noun: 'router' };

function attachAdd(h: Holder, prefix: string, what: string): CommandSpec {
  return {
    name: `${prefix}-lb-add`,
    minArgs: 2,
    maxArgs: 2,
    args: `${what} LB`,
    options: '--may-exist',
    mode: 'RW',
    pre: needLbs,
    run(ctx) {
      const holder = byNameOrUuid(ctx, h.kind, ctx.argv[1]!, true);
      const lb = byNameOrUuid(ctx, LB, ctx.argv[2]!, true);
      if (refs(ctx, holder, 'load_balancer', 'Load_Balancer').some((x) => x.uuid === lb.uuid)) {
        if (ctx.options.has('--may-exist')) return;
        fail(`${lb.uuid} : a load balancer with this UUID already exists`);
      }
      addRef(ctx, holder, 'load_balancer', lb.uuid);
    },
  };
}

function attachDel(h: Holder, prefix: string, what: string): CommandSpec {
  return {
    name: `${prefix}-lb-del`,
    minArgs: 1,
    maxArgs: 2,
    args: `${what} [LB]`,
    options: '--if-exists',
    mode: 'RW',
    pre: needLbs,
    run(ctx) {
      const holder = byNameOrUuid(ctx, h.kind, ctx.argv[1]!, true);
      if (ctx.argv.length === 2) {
        ctx.txn.verify(holder, 'load_balancer');
        ctx.txn.write(holder, 'load_balancer', []);
        return;
      }
      const lb = byNameOrUuid(ctx, LB, ctx.argv[2]!, true);
      if (refs(ctx, holder, 'load_balancer', 'Load_Balancer').some((x) => x.uuid === lb.uuid)) {
        delRef(ctx, holder, 'load_balancer', lb.uuid);
        return;
      }
      if (!ctx.options.has('--if-exists')) fail(`load balancer ${lb.string('name')} is not part of any logical ${h.noun}.`);
    },
  };
}

function attachList(h: Holder, prefix: string, what: string): CommandSpec {
  return {
    name: `${prefix}-lb-list`,
    minArgs: 1,
    maxArgs: 1,
    args: what,
    options: '',
    mode: 'RO',
    pre: needLbs,
    run(ctx) {
      const holder = byNameOrUuid(ctx, h.kind, ctx.argv[1]!, true);
      const lbs = refs(ctx, holder, 'load_balancer', 'Load_Balancer');
      for (const g of refs(ctx, holder, 'load_balancer_group', 'Load_Balancer_Group')) lbs.push(...refs(ctx, g, 'load_balancer', 'Load_Balancer'));
      printLbs(ctx, lbs);
    },
  };
}

export const LB_COMMANDS: readonly CommandSpec[] = [
  lbAdd,
  lbDel,
  lbList,
  attachAdd(ROUTER, 'lr', 'ROUTER'),
  attachDel(ROUTER, 'lr', 'ROUTER'),
  attachList(ROUTER, 'lr', 'ROUTER'),
  attachAdd(SWITCH, 'ls', 'SWITCH'),
  attachDel(SWITCH, 'ls', 'SWITCH'),
  attachList(SWITCH, 'ls', 'SWITCH'),
];
