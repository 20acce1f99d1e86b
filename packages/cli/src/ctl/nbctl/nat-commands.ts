/** ovn-nbctl's NAT commands (lr-nat-add/del/list) and routing policy commands (lr-policy-add/del/list). */
import type { ViewRow } from '../db-txn.js';
import { fail } from '../errors.js';
import type { CommandSpec, PreContext } from '../tool.js';
import { isValidMac } from './ip-text.js';
import { normalizeIpv4AddrStr, normalizeIpv4PrefixStr, normalizeIpv6AddrStr, normalizeIpv6PrefixStr, normalizePrefixStr } from './ip-text.js';
import { byNameOrUuid, LR, LRP, LSP } from './lookup.js';
import { addRef, cmpStr, delRef, ErrorSlot, keyValues, padTrunc, parsePriority, refs } from './nb-util.js';

function needRouters(ctx: PreContext): void {
  for (const t of ['Logical_Router', 'Logical_Router_Port', 'Logical_Switch_Port', 'NAT', 'Logical_Router_Policy']) ctx.need(t);
}

const NAT_TYPES = new Set(['dnat', 'snat', 'dnat_and_snat']);
const badType = (t: string): never => fail(`${t}: type must be one of "dnat", "snat" and "dnat_and_snat".`);

/** is_valid_port_range: "LO" or "LO-HI" with 0 < LO < HI <= 65535 (strtol semantics). */
function isValidPortRange(s: string): boolean {
  const strtol = (t: string): number => {
    const m = /^\s*([+-]?\d+)/.exec(t);
    return m ? Number(m[1]) : 0;
  };
  const tokens = s.split('-').filter((t) => t !== '');
  if (tokens.length === 0) return false;
  const lo = strtol(tokens[0]!);
  if (lo <= 0) return false;
  if (!s.includes('-')) return true;
  if (tokens.length < 2) return false;
  // strtok_r(NULL, "", ...) after the second token: anything left over (after skipping '-') fails.
  const afterHi = s.slice(s.indexOf(tokens[1]!, s.indexOf(tokens[0]!) + tokens[0]!.length) + tokens[1]!.length);
  if (afterHi.replace(/^-+/, '') !== '' || tokens.length > 2) return false;
  const hi = strtol(tokens[1]!);
  return lo < hi && hi <= 65535;
}

/** Whether `ip` is one of the port's network addresses (find_lport_address over extract_lrp_networks). */
function ipInLrpNetworks(lrp: ViewRow, ip: string): boolean {
  const want = normalizeAddr(ip);
  return want !== undefined && lrp.get('networks').some((n) => normalizeAddr(String(n).split('/')[0]!) === want);
}

const isGatewayPort = (lrp: ViewRow): boolean => lrp.scalar('ha_chassis_group') !== undefined || lrp.get('gateway_chassis').length > 0;

const lrNatAdd: CommandSpec = {
  name: 'lr-nat-add',
  minArgs: 4,
  maxArgs: 7,
  args: 'ROUTER TYPE EXTERNAL_IP LOGICAL_IP[LOGICAL_PORT EXTERNAL_MAC] [EXTERNAL_PORT_RANGE]',
  options: '--may-exist,--stateless,--portrange,--add-route,--gateway-port=',
  mode: 'RW',
  pre(ctx) {
    needRouters(ctx);
    ctx.need('Gateway_Chassis');
  },
  run(ctx) {
    const [, routerName, type, externalIp, logicalIp] = ctx.argv as [string, string, string, string, string];
    const isPortrange = ctx.options.has('--portrange');
    const addRoute = ctx.options.has('--add-route');
    const lr = byNameOrUuid(ctx, LR, routerName, true);
    if (!NAT_TYPES.has(type)) badType(type);
    let isV6 = false;
    let newExternal = normalizeIpv4AddrStr(externalIp);
    if (newExternal === undefined) {
      newExternal = normalizeIpv6AddrStr(externalIp);
      isV6 = true;
    }
    if (newExternal === undefined) fail(`${externalIp}: Not a valid IPv4 or IPv6 address.`);
    const family = isV6 ? 'IPv6' : 'IPv4';
    let newLogical: string | undefined;
    if (type !== 'snat') {
      newLogical = isV6 ? normalizeIpv6AddrStr(logicalIp) : normalizeIpv4AddrStr(logicalIp);
      if (newLogical === undefined) fail(`${logicalIp}: Not a valid ${family} address.`);
    } else {
      newLogical = isV6 ? normalizeIpv6PrefixStr(logicalIp) : normalizeIpv4PrefixStr(logicalIp);
      if (newLogical === undefined) fail(`${logicalIp}: should be an ${family} address or network.`);
    }
    let logicalPort: string | undefined;
    let externalMac: string | undefined;
    let portRange: string | undefined;
    const argc = ctx.argv.length;
    if (argc === 6) {
      if (!isPortrange) fail('lr-nat-add with logical_port must also specify external_mac.');
      portRange = ctx.argv[5]!;
      if (!isValidPortRange(portRange)) fail(`invalid port range ${portRange}.`);
    } else if (argc >= 7) {
      if (type !== 'dnat_and_snat') fail('logical_port and external_mac are only valid when type is "dnat_and_snat".');
      if (argc === 7 && isPortrange) fail('lr-nat-add with logical_port must also specify external_mac.');
      logicalPort = ctx.argv[5]!;
      byNameOrUuid(ctx, LSP, logicalPort, true);
      externalMac = ctx.argv[6]!;
      if (!isValidMac(externalMac)) fail(`invalid mac address ${externalMac}.`);
      if (argc > 7) {
        portRange = ctx.argv[7]!;
        if (!isValidPortRange(portRange)) fail(`invalid port range ${portRange}.`);
      }
    }
    const mayExist = ctx.options.has('--may-exist');
    const stateless = ctx.options.has('--stateless');
    if (type !== 'dnat_and_snat' && stateless) fail('stateless is not applicable to dnat or snat types');
    const isSnat = type === 'snat';
    if (isSnat && addRoute) fail('routes cannot be added for snat types.');

    const dgwName = ctx.options.get('--gateway-port') ?? undefined;
    let dgwPort: ViewRow | undefined;
    let numDgw = 0;
    const ports = refs(ctx, lr, 'ports', 'Logical_Router_Port');
    if (dgwName !== undefined) {
      dgwPort = byNameOrUuid(ctx, LRP, dgwName, true);
      numDgw = ports.filter(isGatewayPort).length;
      if (!ports.includes(dgwPort)) fail(`${dgwName} is not a router port of logical router: ${routerName}.`);
      if (!isGatewayPort(dgwPort)) fail(`${dgwName} is not a distributed gateway router port.`);
    } else {
      for (const p of ports) {
        if (!isGatewayPort(p)) continue;
        numDgw++;
        if (ipInLrpNetworks(p, newExternal)) dgwPort = p;
      }
      if (numDgw > 1 && !dgwPort) fail(`logical router: ${routerName} has multiple distributed gateway ports and gateway_port can not be determined from external IP of NAT rule.`);
    }

    const err = new ErrorSlot(ctx);
    for (const nat of refs(ctx, lr, 'nat', 'NAT')) {
      const oldExternal = normalizePrefixStr(nat.string('external_ip'));
      if (oldExternal === undefined) continue;
      const oldLogical = normalizePrefixStr(nat.string('logical_ip'));
      if (oldLogical === undefined) continue;
      let shouldReturn = false;
      const natGw = nat.scalar('gateway_port');
      if (
        type === nat.string('type') &&
        (numDgw <= 1 || (natGw !== undefined && dgwPort !== undefined && String(natGw) === dgwPort.uuid) || (natGw === undefined && dgwPort !== undefined && ipInLrpNetworks(dgwPort, oldExternal)))
      ) {
        if ((isSnat ? newLogical : newExternal) === (isSnat ? oldLogical : oldExternal)) {
          if ((isSnat ? newExternal : newLogical) === (isSnat ? oldExternal : oldLogical)) {
            if (mayExist) {
              ctx.txn.verify(nat, 'logical_port');
              ctx.txn.verify(nat, 'external_mac');
              ctx.txn.write(nat, 'logical_port', logicalPort === undefined ? [] : [logicalPort]);
              ctx.txn.write(nat, 'external_mac', externalMac === undefined ? [] : [externalMac]);
            } else {
              err.set(`${newExternal}, ${newLogical}: a NAT with this external_ip and logical_ip already exists`);
            }
          } else {
            err.set(`a NAT with this type (${type}), ${isSnat ? 'logical_ip' : 'external_ip'} (${isSnat ? newLogical : newExternal}) already exists`);
          }
          shouldReturn = true;
        }
      }
      if (type === 'dnat_and_snat' || nat.string('type') === 'dnat_and_snat') {
        if (oldExternal === newExternal && (nat.map('options').get('stateless') === 'true' || stateless)) {
          if (!mayExist) err.set(`${newExternal}, ${newLogical}: External ip cannot be shared across stateless and stateful NATs`);
          shouldReturn = true;
        }
      }
      if (shouldReturn) {
        err.check();
        return;
      }
    }

    const nat = ctx.txn.insert(ctx.schema.tables.get('NAT')!);
    ctx.txn.write(nat, 'type', [type]);
    ctx.txn.write(nat, 'external_ip', [externalIp]);
    ctx.txn.write(nat, 'logical_ip', [newLogical]);
    if (logicalPort !== undefined && externalMac !== undefined) {
      ctx.txn.write(nat, 'logical_port', [logicalPort]);
      ctx.txn.write(nat, 'external_mac', [externalMac]);
    }
    if (portRange !== undefined) ctx.txn.write(nat, 'external_port_range', [portRange]);
    if (dgwName !== undefined && dgwPort) ctx.txn.write(nat, 'gateway_port', [dgwPort.uuid]);
    const options: [string, string][] = [];
    if (addRoute) options.push(['add_route', 'true']);
    options.push(['stateless', stateless ? 'true' : 'false']);
    ctx.txn.write(nat, 'options', options);
    addRef(ctx, lr, 'nat', nat.uuid);
  },
};

const lrNatDel: CommandSpec = {
  name: 'lr-nat-del',
  minArgs: 1,
  maxArgs: 4,
  args: 'ROUTER [TYPE [IP] [GATEWAY_PORT]]',
  options: '--if-exists',
  mode: 'RW',
  pre: needRouters,
  run(ctx) {
    const lr = byNameOrUuid(ctx, LR, ctx.argv[1]!, true);
    if (ctx.argv.length === 2) {
      ctx.txn.verify(lr, 'nat');
      ctx.txn.write(lr, 'nat', []);
      return;
    }
    const type = ctx.argv[2]!;
    if (!NAT_TYPES.has(type)) badType(type);
    const nats = refs(ctx, lr, 'nat', 'NAT');
    if (ctx.argv.length === 3) {
      for (const n of nats) if (n.string('type') === type) delRef(ctx, lr, 'nat', n.uuid);
      return;
    }
    const natIp = normalizePrefixStr(ctx.argv[3]!);
    const isSnat = type === 'snat';
    const oldIp = (n: ViewRow): string | undefined => normalizePrefixStr(n.string(isSnat ? 'logical_ip' : 'external_ip'));
    const gw = (n: ViewRow): string | undefined => {
      const g = n.scalar('gateway_port');
      return g === undefined ? undefined : String(g);
    };
    if (ctx.argv.length === 4) {
      if (natIp === undefined) {
        const dgw = byNameOrUuid(ctx, LRP, ctx.argv[3]!, true);
        for (const n of nats) if (n.string('type') === type && gw(n) === dgw.uuid) delRef(ctx, lr, 'nat', n.uuid);
        return;
      }
      for (const n of nats) {
        const old = oldIp(n);
        if (old !== undefined && n.string('type') === type && old === natIp) delRef(ctx, lr, 'nat', n.uuid);
      }
      return;
    }
    if (natIp === undefined) fail(`${ctx.argv[3]}: Invalid IP address or CIDR`);
    const dgw = byNameOrUuid(ctx, LRP, ctx.argv[4]!, true);
    const hit = nats.find((n) => {
      const old = oldIp(n);
      return old !== undefined && n.string('type') === type && old === natIp && gw(n) === dgw.uuid;
    });
    if (hit) {
      delRef(ctx, lr, 'nat', hit.uuid);
      return;
    }
    if (!ctx.options.has('--if-exists')) {
      fail(`no matching NAT with the type (${type}), ${isSnat ? 'logical_ip' : 'external_ip'} (${natIp}) and gateway_port (${ctx.argv[4]})`);
    }
  },
};

const lrNatList: CommandSpec = {
  name: 'lr-nat-list',
  minArgs: 1,
  maxArgs: 1,
  args: 'ROUTER',
  options: '',
  mode: 'RO',
  pre: needRouters,
  run(ctx) {
    const lr = byNameOrUuid(ctx, LR, ctx.argv[1]!, true);
    const rows: { key: string; value: string }[] = [];
    for (const nat of refs(ctx, lr, 'nat', 'NAT')) {
      const g = nat.scalar('gateway_port');
      const gwName = g === undefined ? '' : (ctx.txn.get('Logical_Router_Port', String(g))?.string('name') ?? '');
      const key = `${padTrunc(nat.string('type'), 17, 13)}${padTrunc(gwName, 22, 18)}${nat.string('external_ip')}`;
      const range = padTrunc(nat.string('external_port_range'), 17, 13);
      const mac = nat.scalar('external_mac');
      const lport = nat.scalar('logical_port');
      const value =
        mac !== undefined && lport !== undefined
          ? `${range}${padTrunc(nat.string('logical_ip'), 20, 16)}${padTrunc(String(mac), 21, 17)}${String(lport)}`
          : `${range}${nat.string('logical_ip')}`;
      rows.push({ key, value });
    }
    if (rows.length === 0) return;
    rows.sort((a, b) => cmpStr(a.key, b.key) || cmpStr(a.value, b.value));
    ctx.output += `${padTrunc('TYPE', 17, 13)}${padTrunc('GATEWAY_PORT', 22, 18)}${padTrunc('EXTERNAL_IP', 19, 15)}${padTrunc('EXTERNAL_PORT', 17, 13)}${padTrunc('LOGICAL_IP', 20, 16)}${padTrunc('EXTERNAL_MAC', 21, 17)}LOGICAL_PORT\n`;
    for (const r of rows) ctx.output += `${padTrunc(r.key, 58, 54)}${r.value}\n`;
  },
};

/** normalize_addr_str: an unmasked IPv4 or IPv6 address in canonical form. */
const normalizeAddr = (s: string): string | undefined => normalizeIpv4AddrStr(s) ?? normalizeIpv6AddrStr(s);

const lrPolicyAdd: CommandSpec = {
  name: 'lr-policy-add',
  minArgs: 4,
  maxArgs: Infinity,
  args: 'ROUTER PRIORITY MATCH ACTION [NEXTHOP] [OPTIONS - KEY=VALUE ...]',
  options: '--may-exist',
  mode: 'RW',
  pre: needRouters,
  run(ctx) {
    const lr = byNameOrUuid(ctx, LR, ctx.argv[1]!, true);
    const priority = parsePriority(ctx.argv[2]!);
    const match = ctx.argv[3]!;
    const action = ctx.argv[4]!;
    if (action !== 'allow' && action !== 'drop' && action !== 'reroute') fail(`${action}: action must be one of "allow", "drop", and "reroute"`);
    const reroute = action === 'reroute';
    if (reroute && ctx.argv.length < 6) fail('Nexthop is required when action is reroute.');
    for (const p of refs(ctx, lr, 'policies', 'Logical_Router_Policy')) {
      if (Number(p.scalar('priority')) === priority && p.string('match') === match) {
        if (!ctx.options.has('--may-exist')) fail(`Same routing policy already existed on the logical router ${ctx.argv[1]}.`);
        return;
      }
    }
    const nexthops: string[] = [];
    if (reroute) {
      let v4: boolean | undefined;
      for (const token of ctx.argv[5]!.split(',').filter((t) => t !== '')) {
        const nh = normalizeAddr(token);
        if (nh === undefined) fail(`bad next hop argument: ${ctx.argv[5]}`);
        const isV4 = nh.includes('.');
        v4 ??= isV4;
        if (isV4 !== v4) fail(`bad next hops argument, not in the same addr family : ${ctx.argv[5]}`);
        nexthops.push(nh);
      }
    }
    const options: string[] = [];
    for (const arg of ctx.argv.slice(reroute ? 6 : 5)) {
      const i = arg.indexOf('=');
      if (i < 0 || i === arg.length - 1) fail(`No value specified for the option : ${i < 0 ? arg : arg.slice(0, i)}`);
      options.push(arg);
    }
    const policy = ctx.txn.insert(ctx.schema.tables.get('Logical_Router_Policy')!);
    ctx.txn.write(policy, 'priority', [priority]);
    ctx.txn.write(policy, 'match', [match]);
    ctx.txn.write(policy, 'action', [action]);
    if (reroute) ctx.txn.write(policy, 'nexthops', [...new Set(nexthops)].sort());
    ctx.txn.write(policy, 'options', keyValues(options));
    addRef(ctx, lr, 'policies', policy.uuid);
  },
};

const lrPolicyDel: CommandSpec = {
  name: 'lr-policy-del',
  minArgs: 1,
  maxArgs: 3,
  args: 'ROUTER [{PRIORITY | UUID} [MATCH]]',
  options: '--if-exists',
  mode: 'RW',
  pre: needRouters,
  run(ctx) {
    const lr = byNameOrUuid(ctx, LR, ctx.argv[1]!, true);
    if (ctx.argv.length === 2) {
      ctx.txn.write(lr, 'policies', []);
      return;
    }
    const arg = ctx.argv[2]!;
    const isUuid = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(arg);
    const priority = isUuid ? 0 : parsePriority(arg);
    const policies = refs(ctx, lr, 'policies', 'Logical_Router_Policy');
    if (ctx.argv.length === 3) {
      if (isUuid) {
        const hit = policies.find((p) => p.uuid === arg.toLowerCase());
        if (hit) delRef(ctx, lr, 'policies', hit.uuid);
        else if (!ctx.options.has('--if-exists')) fail('Logical router policy uuid is not found.');
        return;
      }
      for (const p of policies) if (Number(p.scalar('priority')) === priority) delRef(ctx, lr, 'policies', p.uuid);
      return;
    }
    const hit = policies.find((p) => Number(p.scalar('priority')) === priority && p.string('match') === ctx.argv[3]);
    if (hit) delRef(ctx, lr, 'policies', hit.uuid);
  },
};

const lrPolicyList: CommandSpec = {
  name: 'lr-policy-list',
  minArgs: 1,
  maxArgs: 1,
  args: 'ROUTER',
  options: '',
  mode: 'RO',
  pre: needRouters,
  run(ctx) {
    const lr = byNameOrUuid(ctx, LR, ctx.argv[1]!, true);
    const policies = refs(ctx, lr, 'policies', 'Logical_Router_Policy').sort((a, b) => {
      const pa = Number(a.scalar('priority'));
      const pb = Number(b.scalar('priority'));
      if (pa !== pb) return pa > pb ? -1 : 1;
      return cmpStr(a.string('match'), b.string('match')) || cmpStr(a.uuid, b.uuid);
    });
    if (policies.length) ctx.output += 'Routing Policies\n';
    for (const p of policies) {
      let s = `${String(p.scalar('priority')).padStart(10)} ${p.string('match').padStart(50)} ${p.string('action').padStart(15)}`;
      p.get('nexthops').forEach((nh, i) => {
        const n = normalizePrefixStr(String(nh)) ?? '(null)';
        s += i ? `, ${n}` : ` ${n.padStart(25)}`;
      });
      const options = [...p.map('options')];
      if (options.length) s += `${''.padStart(15)}${options.map(([k, v]) => `${k}=${v}`).join(',')}`;
      ctx.output += `${s}\n`;
    }
  },
};

export const NAT_COMMANDS: readonly CommandSpec[] = [lrNatAdd, lrNatDel, lrNatList, lrPolicyAdd, lrPolicyDel, lrPolicyList];
