/**
 * VMs of the lab: `lab vm add` starts a VM process on a host and plugs it into that host's
 * switch the way a hypervisor would: a `dgram` Interface on br-int with
 * `external_ids:iface-id=<logical port>`; the controller then claims the port. `lab ping`
 * asks a VM to ping another one (or an address) and reports what came back.
 * A VM is either simulated (a `lab vm-daemon` process) or, with `netns`, a real network
 * namespace whose eth0 is a TAP bridged to the same kind of VIF by socat (netns.ts).
 */
import { join } from 'node:path';
import type { PingResult } from '../vm/index.js';
import { loadState, ovnts, saveState, type LabState, type VmRecord } from './lab.js';
import { NETNS_MTU, createNetnsVm, deleteNetns, netnsExec, netnsName, netnsPing, requireNetnsSupport, tapName } from './netns.js';
import { socketReady, startDaemon, stopDaemon, waitFor } from './processes.js';
import { vmRequest, type VmRequest } from './vm-daemon.js';

export interface VmAddOptions {
  readonly name: string;
  readonly host: string;
  /** Logical switch port; default the VM's name. */
  readonly port?: string;
  /** Default: the logical port's MAC (from its addresses). */
  readonly mac?: string;
  /** IPv4 with prefix length ("10.0.0.5/24"); without it the VM asks DHCP. */
  readonly ip?: string;
  readonly gw?: string;
  /** Create the logical port on this logical switch if it does not exist. */
  readonly lswitch?: string;
  /**
   * A real network namespace joined by a TAP device (root only) instead of a simulated VM.
   * Without `ip`, eth0 is left unconfigured (run a DHCP client in it with `lab exec`).
   */
  readonly netns?: boolean;
  /** A netns VM's eth0 MTU (default NETNS_MTU, 1400). */
  readonly mtu?: number;
}

/** The MAC of a logical switch port, from its addresses (or dynamic addresses). */
async function portMac(db: string, port: string): Promise<string | undefined> {
  const mac = (text: string): string | undefined => /(?:^|[\s"])([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})(?=[\s"]|$)/.exec(text)?.[1];
  const addrs = await ovnts(['nbctl', `--db=${db}`, 'lsp-get-addresses', port]).catch(() => '');
  return mac(addrs) ?? mac(await ovnts(['nbctl', `--db=${db}`, '--bare', 'get', 'Logical_Switch_Port', port, 'dynamic_addresses']).catch(() => ''));
}

/** The first n ≥ 1 whose VIF ports (40000 + n on the switch, 50000 + n on the VM) no VM uses. */
function freeSlot(state: LabState): number {
  const used = new Set(state.vms.map((v) => Number(v.switchAddr.slice(v.switchAddr.lastIndexOf(':') + 1)) - 40000));
  let n = 1;
  while (used.has(n)) n++;
  return n;
}

function requireState(): LabState {
  const s = loadState();
  if (!s) throw new Error('no lab is running (ovnts lab up)');
  return s;
}

export async function vmAdd(o: VmAddOptions, state: LabState = requireState()): Promise<VmRecord> {
  const host = state.hosts.find((h) => h.name === o.host);
  if (!host) throw new Error(`unknown host ${o.host} (hosts: ${state.hosts.map((h) => h.name).join(', ')})`);
  if (state.vms.some((v) => v.name === o.name)) throw new Error(`vm ${o.name} exists`);
  const port = o.port ?? o.name;
  if (o.netns) requireNetnsSupport();
  if (o.lswitch) {
    if (!o.mac) throw new Error(`vm ${o.name}: --switch creates the logical port, so it needs --mac`);
    const addr = `${o.mac}${o.ip ? ` ${o.ip.split('/')[0]}` : ''}`;
    await ovnts(['nbctl', `--db=${state.db}`, '--may-exist', 'lsp-add', o.lswitch, port, '--', 'lsp-set-addresses', port, addr]);
  }
  const mac = o.mac ?? (await portMac(state.db, port));
  if (!mac) throw new Error(`vm ${o.name}: no --mac, and logical port ${port} has no MAC address`);
  const n = freeSlot(state);
  const switchAddr = `${host.ip}:${40000 + n}`;
  const vmAddr = `${host.ip}:${50000 + n}`;
  const plug = (): Promise<void> => plugVif(host.vswitchDb, o.name, { local: switchAddr, remote: vmAddr }, port);
  if (o.netns) {
    const ns = netnsName(state.dir, o.name);
    const mtu = o.mtu ?? NETNS_MTU;
    const rec: VmRecord = { name: o.name, host: host.name, port, mac, ip: o.ip, gw: o.gw, control: '', switchAddr, vmAddr, netns: ns, mtu };
    // Recorded before anything is created, so `lab down` cleans up even after a crash midway.
    state.vms.push(rec);
    saveState(state);
    try {
      await createNetnsVm({
        name: o.name, netns: ns, tap: tapName(state.dir, o.name), mac, mtu, switchAddr, vmAddr,
        ...(o.ip ? { ip: o.ip } : {}), ...(o.gw ? { gw: o.gw } : {}),
        log: join(state.dir, `vm-${o.name}.log`),
        onStarted: (d) => {
          state.daemons.push(d);
          saveState(state);
        },
      });
    } catch (e) {
      state.daemons = state.daemons.filter((d) => d.name !== `vm-${o.name}`);
      state.vms = state.vms.filter((v) => v !== rec);
      saveState(state);
      throw e;
    }
    await plug();
    return rec;
  }
  const control = join(host.dir, `vm-${o.name}.sock`);
  const rec: VmRecord = { name: o.name, host: host.name, port, mac, ip: o.ip, gw: o.gw, control, switchAddr, vmAddr };
  const args = ['lab', 'vm-daemon', '--name', o.name, '--mac', mac, '--local', vmAddr, '--remote', switchAddr, '--control', control];
  if (o.ip) args.push('--ip', o.ip);
  else args.push('--dhcp');
  if (o.gw) args.push('--gw', o.gw);
  state.daemons.push(startDaemon(`vm-${o.name}`, args, join(state.dir, `vm-${o.name}.log`)));
  state.vms.push(rec);
  saveState(state);
  await waitFor(`vm ${o.name}`, socketReady(control));
  await plug();
  return rec;
}

/**
 * What `vsctl add-port br-int NAME -- set Interface NAME type=dgram options:… external_ids:iface-id=…`
 * does, as one transaction from this process (a `vsctl` process per VM costs a Node start-up).
 */
async function plugVif(vswitchDb: string, name: string, options: { local: string; remote: string }, ifaceId: string): Promise<void> {
  const { OvsdbClient, ovsMap, ovsSet } = await import('@ovnts/ovsdb');
  const client = new OvsdbClient({ remotes: [vswitchDb] });
  try {
    await client.connect();
    const tx = client.transaction('Open_vSwitch');
    const iface = tx.insert('Interface', { name, type: 'dgram', options: ovsMap(options), external_ids: ovsMap({ 'iface-id': ifaceId }) });
    const port = tx.insert('Port', { name, interfaces: ovsSet(iface.ref) });
    const added = tx.mutate('Bridge', [['name', '==', 'br-int']], [['ports', 'insert', ovsSet(port.ref)]]);
    const res = await tx.execute();
    if (!res.get(added).count) throw new Error(`${vswitchDb}: no bridge br-int`);
  } finally {
    client.close();
  }
}

export async function vmDel(name: string, state: LabState = requireState()): Promise<void> {
  const vm = state.vms.find((v) => v.name === name);
  if (!vm) throw new Error(`unknown vm ${name}`);
  const host = state.hosts.find((h) => h.name === vm.host)!;
  await ovnts(['vsctl', `--db=${host.vswitchDb}`, '--no-wait', '--if-exists', 'del-port', 'br-int', name]);
  const d = state.daemons.find((x) => x.name === `vm-${name}`);
  if (d) await stopDaemon(d);
  if (vm.netns) await deleteNetns(vm.netns);
  state.daemons = state.daemons.filter((x) => x !== d);
  state.vms = state.vms.filter((v) => v !== vm);
  saveState(state);
}

/** The address to reach `target`: a VM name (its IPv4) or an address as given. */
export function addressOf(target: string, state: LabState): string {
  const vm = state.vms.find((v) => v.name === target);
  if (!vm) return target;
  if (!vm.ip) throw new Error(`vm ${target} has no static address`);
  return vm.ip.split('/')[0]!;
}

export function vmControl(name: string, state: LabState = requireState()): string {
  const vm = state.vms.find((v) => v.name === name);
  if (!vm) throw new Error(`unknown vm ${name}`);
  if (vm.netns) throw new Error(`vm ${name} is a network namespace (netns ${vm.netns}), not a simulated VM: use \`ovnts lab exec ${name} -- …\``);
  return vm.control;
}

/**
 * VM `from` pings `to`. From a simulated VM, its own stack pings; from a netns VM, the real
 * ping(8) runs in its namespace (python3's raw socket where ping is not installed).
 */
export async function vmPing(from: string, to: string, opts: { count?: number; ttl?: number } = {}, state: LabState = requireState()): Promise<PingResult> {
  const src = state.vms.find((v) => v.name === from);
  if (src?.netns) return netnsPing(src.netns, addressOf(to, state), { count: opts.count ?? 3, ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}) });
  const req: VmRequest = { op: 'ping', dst: addressOf(to, state), count: opts.count ?? 3, ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}) };
  return (await vmRequest(vmControl(from, state), req)) as PingResult;
}

/**
 * `lab exec VM -- CMD ARGS…`: runs CMD in a netns VM's namespace with this process's stdio and
 * resolves with its exit status.
 */
export async function vmExec(name: string, argv: readonly string[], state: LabState = requireState()): Promise<number> {
  const vm = state.vms.find((v) => v.name === name);
  if (!vm) throw new Error(`unknown vm ${name}`);
  if (!vm.netns) throw new Error(`vm ${name} is simulated; exec needs --netns (ovnts lab vm add ${name} … --netns)`);
  if (argv.length === 0) throw new Error('usage: ovnts lab exec VM -- COMMAND [ARGS…]');
  requireNetnsSupport();
  return netnsExec(vm.netns, argv);
}

/** ping(8)-like text for a result. */
export function formatPing(from: string, r: PingResult): string {
  const lines = [`PING ${r.dst} from ${from}`];
  for (const p of r.probes) {
    if (p.status === 'ok') lines.push(`reply from ${p.from ?? r.dst}: icmp_seq=${p.seq} ttl=${p.ttl ?? '?'} time=${(p.rttMs ?? 0).toFixed(2)} ms`);
    else if (p.status === 'lost') lines.push(`no reply: icmp_seq=${p.seq}`);
    else lines.push(`${p.from ? `from ${p.from}: ` : ''}icmp_seq=${p.seq} ${p.message ?? p.error ?? 'error'}`);
  }
  const rtt = r.received ? `, rtt min/avg/max = ${(r.minRttMs ?? 0).toFixed(2)}/${(r.avgRttMs ?? 0).toFixed(2)}/${(r.maxRttMs ?? 0).toFixed(2)} ms` : '';
  lines.push(`${r.transmitted} packets transmitted, ${r.received} received, ${r.lossPercent}% packet loss${rtt}`);
  return lines.join('\n') + '\n';
}

/**
 * Moves a VM to another host the way a live migration looks to OVN: the VM starts on the new
 * host and its VIF (same logical port) appears there, so that host's controller claims the port
 * (the newest claim wins); then the old VIF and VM go away. With `pingFrom`, another VM pings
 * the migrating one throughout, and the result says how many echoes were lost.
 */
export async function vmMigrate(name: string, toHost: string, opts: { pingFrom?: string } = {}, state: LabState = requireState()): Promise<PingResult | undefined> {
  const vm = state.vms.find((v) => v.name === name);
  if (!vm) throw new Error(`unknown vm ${name}`);
  if (vm.host === toHost) throw new Error(`${name} is already on ${toHost}`);
  if (vm.netns) throw new Error(`${name} is a netns VM: migrating those is not supported yet`);
  const from = state.hosts.find((h) => h.name === vm.host)!;
  if (!state.hosts.some((h) => h.name === toHost)) throw new Error(`unknown host ${toHost}`);
  const ping = opts.pingFrom
    ? (vmRequest(vmControl(opts.pingFrom, state), { op: 'ping', dst: addressOf(name, state), count: 30, intervalMs: 100, timeoutMs: 500 }, 60_000) as Promise<PingResult>)
    : undefined;
  await sleepMs(500);
  // The new instance, under a temporary name so both can exist for a moment.
  const moving = `${name}-new`;
  const rec = await vmAdd({ name: moving, host: toHost, port: vm.port, mac: vm.mac, ...(vm.ip ? { ip: vm.ip } : {}), ...(vm.gw ? { gw: vm.gw } : {}) }, state);
  await ovnts(['vsctl', `--db=${from.vswitchDb}`, '--no-wait', '--if-exists', 'del-port', 'br-int', name]);
  const old = state.daemons.find((d) => d.name === `vm-${name}`);
  if (old) await stopDaemon(old);
  state.daemons = state.daemons.filter((d) => d !== old).map((d) => (d.name === `vm-${moving}` ? { ...d, name: `vm-${name}` } : d));
  state.vms = state.vms.filter((v) => v !== vm && v !== rec).concat({ ...rec, name });
  saveState(state);
  return ping ? await ping : undefined;
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
