/**
 * Logical actions → switch actions, following OVN's physical layout (layout.ts):
 *   next / output                 → resubmit to the next logical table / to the output tables;
 *   assignments, <->, ip.ttl--    → set_field, move, stack push/pop, dec_ttl;
 *   ct_next, ct_commit, NAT, LB   → ct(zone, table, commit, nat, exec) (LB: a select group);
 *   check_*_port_sec, get_arp,
 *   lookup_arp, get_fdb           → a lookup table (73/75, 66, 67, 71) whose result lands in a flag
 *                                   bit moved to the destination;
 *   arp {}, icmp4 {}, put_arp, put_dhcp_opts, … → a packet-in to the controller with userdata
 *                                   naming the operation, the statement, and where to resume.
 */
import type { Action as LAction, ArgValue, FieldRef } from '@ovnts/lflow';
import { argOf, ovnSymbols, printAction } from '@ovnts/lflow';
import type { Action, NatSpec, SubField } from '@ovnts/switch/dist/src/flow/actions.js';
import type { Bucket } from '@ovnts/switch/dist/src/flow/group.js';
import { ofSubField } from './fields.js';
import { FLAG_BIT, OFTABLE, REG, ofTable } from './layout.js';

export interface ActionContext {
  readonly pipeline: 'ingress' | 'egress';
  /** Logical table of the flow. */
  readonly table: number;
  readonly datapathKey: number;
  readonly isRouter: boolean;
  portKey(name: string): number | undefined;
  /** Registers a select group and returns its id. */
  addSelectGroup(buckets: readonly Bucket[]): number;
}

/** What the controller's packet-in handler receives as userdata (hex of this JSON). */
export interface ControllerOp {
  /** The action's name: arp, icmp4, put_arp, put_dhcp_opts, log … */
  readonly op: string;
  /** The logical statement itself, to be parsed again by the handler. */
  readonly action: string;
  readonly pipeline: 'ingress' | 'egress';
  /** Logical table the statement is in; `next` inside a block resumes at table + 1. */
  readonly table: number;
  /** Whether the switch pauses the pipeline (the handler resumes it at table + 1). */
  readonly pause: boolean;
}

export function encodeControllerOp(op: ControllerOp): string {
  return Buffer.from(JSON.stringify(op), 'utf8').toString('hex');
}

export function decodeControllerOp(userdata: string): ControllerOp {
  return JSON.parse(Buffer.from(userdata, 'hex').toString('utf8')) as ControllerOp;
}

export class ActionCompileError extends Error {
  override readonly name = 'ActionCompileError';
}

const symtab = ovnSymbols();

function ones(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}

/** The OpenFlow bits of a logical field reference. */
function sub(ref: FieldRef): SubField {
  const sym = symtab.get(ref.symbol);
  if (!sym) throw new ActionCompileError(`unknown field ${ref.symbol}`);
  if (ref.nBits === 0) return { field: ref.symbol === 'inport' ? REG.INPORT : REG.OUTPORT, ofs: 0, bits: 32 };
  const s = ofSubField(sym.base, sym.baseOfs + ref.ofs, ref.nBits);
  return { field: s.field, ofs: s.ofs, bits: s.bits };
}

function setBits(dst: SubField, value: bigint): Action {
  return { type: 'set_field', field: dst.field, value: (value & ones(dst.bits)) << BigInt(dst.ofs), mask: ones(dst.bits) << BigInt(dst.ofs) };
}

const FLAGS_BIT = (bit: number): SubField => ({ field: REG.FLAGS, ofs: bit, bits: 1 });

/** Actions after which nothing more runs in OVN (the pipeline ends or recirculates). */
const CONTROLLER_BLOCKS = new Set(['arp', 'nd_na', 'nd_na_router', 'nd_ns', 'icmp4', 'icmp4_error', 'icmp6', 'icmp6_error', 'tcp_reset', 'sctp_abort', 'reject', 'igmp']);
const CONTROLLER_CALLS = new Set(['put_arp', 'put_nd', 'put_fdb', 'log', 'trigger_event', 'handle_svc_check', 'handle_dhcpv6_reply', 'bind_vport', 'igmp']);
const PAUSING_RESULTS = new Set(['put_dhcp_opts', 'put_dhcpv6_opts', 'put_nd_ra_opts', 'dns_lookup']);

export class ActionCompiler {
  constructor(private readonly ctx: ActionContext) {}

  compile(list: readonly LAction[]): Action[] {
    const out: Action[] = [];
    for (const a of list) {
      if (a.kind === 'drop') break;
      this.one(a, out);
    }
    return out;
  }

  private nextTable(): number {
    return ofTable(this.ctx.pipeline, this.ctx.table + 1);
  }

  /** The conntrack zone register of this datapath: switches use one zone, routers DNAT/SNAT zones. */
  private zone(kind: 'ct' | 'dnat' | 'snat'): SubField {
    if (!this.ctx.isRouter) return { field: REG.CT_ZONE, ofs: 0, bits: 16 };
    return { field: kind === 'snat' ? REG.SNAT_ZONE : REG.DNAT_ZONE, ofs: 0, bits: 16 };
  }

  private controller(a: LAction, op: string, pause: boolean): Action {
    const userdata = encodeControllerOp({ op, action: printAction(a), pipeline: this.ctx.pipeline, table: this.ctx.table, pause });
    return { type: 'controller', maxLen: 65535, reason: 'action', id: 0, userdata, ...(pause ? { pause: true } : {}) };
  }

  private one(a: LAction, out: Action[]): void {
    switch (a.kind) {
      case 'next':
        out.push({ type: 'resubmit', table: ofTable(a.pipeline ?? this.ctx.pipeline, a.table ?? this.ctx.table + 1) });
        return;
      case 'output':
        out.push({ type: 'resubmit', table: this.ctx.pipeline === 'ingress' ? OFTABLE.OUTPUT_LARGE_PKT_DETECT : OFTABLE.SAVE_INPORT });
        return;
      case 'drop':
        return;
      case 'dec_ttl':
        out.push({ type: 'dec_ttl' });
        return;
      case 'assign': {
        const dst = sub(a.dst);
        if (a.src.kind === 'field') {
          out.push({ type: 'move', src: sub(a.src.ref), dst });
          return;
        }
        const c = a.src.c;
        if (c.kind === 'str') {
          out.push(setBits(dst, BigInt(this.ctx.portKey(c.value) ?? 0)));
          return;
        }
        if (c.mask !== undefined) {
          out.push({ type: 'set_field', field: dst.field, value: (c.value & c.mask) << BigInt(dst.ofs), mask: (c.mask & ones(dst.bits)) << BigInt(dst.ofs) });
        } else out.push(setBits(dst, c.value));
        return;
      }
      case 'exchange': {
        const x = sub(a.a);
        const y = sub(a.b);
        out.push({ type: 'stack_push', src: x }, { type: 'stack_push', src: y }, { type: 'stack_pop', dst: x }, { type: 'stack_pop', dst: y });
        return;
      }
      case 'result':
        this.result(a, out);
        return;
      case 'call':
        this.call(a, out);
        return;
      case 'ct_lb':
        this.ctLb(a.backends, out);
        return;
      case 'block':
        this.block(a, out);
        return;
    }
  }

  private result(a: Extract<LAction, { kind: 'result' }>, out: Action[]): void {
    if (PAUSING_RESULTS.has(a.fn)) {
      // The controller answers (DHCP, DNS, RA) and resumes the pipeline with the result bit set.
      out.push(this.controller(a, a.fn, true));
      return;
    }
    const dst = sub(a.dst);
    const lookup = (table: number, bit: number): void => {
      out.push(setBits(FLAGS_BIT(bit), 0n), { type: 'resubmit', table }, { type: 'move', src: FLAGS_BIT(bit), dst });
    };
    switch (a.fn) {
      case 'check_in_port_sec':
        lookup(OFTABLE.CHK_IN_PORT_SEC, FLAG_BIT.CHECK_PORT_SEC);
        return;
      case 'check_out_port_sec':
        lookup(OFTABLE.CHK_OUT_PORT_SEC, FLAG_BIT.CHECK_PORT_SEC);
        return;
      case 'lookup_arp':
      case 'lookup_nd': {
        // Table 67 matches (inport, IP in reg0/xxreg0, MAC in eth.src): save those, load the arguments.
        const v6 = a.fn === 'lookup_nd';
        const ipReg: SubField = v6 ? { field: 'xxreg0', ofs: 0, bits: 128 } : { field: 'reg0', ofs: 0, bits: 32 };
        const eth: SubField = { field: 'eth_src', ofs: 0, bits: 48 };
        const ip = this.fieldArg(argOf(a.args, 1));
        const mac = this.fieldArg(argOf(a.args, 2));
        out.push({ type: 'stack_push', src: ipReg }, { type: 'stack_push', src: eth });
        out.push({ type: 'move', src: ip, dst: ipReg }, { type: 'move', src: mac, dst: eth });
        out.push(setBits(FLAGS_BIT(FLAG_BIT.LOOKUP_RESULT), 0n), { type: 'resubmit', table: OFTABLE.MAC_LOOKUP });
        out.push({ type: 'stack_pop', dst: eth }, { type: 'stack_pop', dst: ipReg });
        out.push({ type: 'move', src: FLAGS_BIT(FLAG_BIT.LOOKUP_RESULT), dst });
        return;
      }
      case 'get_fdb':
        out.push(setBits(dst, 0n), { type: 'resubmit', table: OFTABLE.GET_FDB });
        return;
      case 'lookup_fdb':
        lookup(OFTABLE.LOOKUP_FDB, FLAG_BIT.LOOKUP_RESULT);
        return;
      case 'select': {
        // select(v1 = w1, v2 = w2, …) or select(values = …): one bucket per value.
        const buckets: Bucket[] = a.args.map((arg, i) => {
          const value = arg.key !== undefined && /^\d+$/.test(arg.key) ? BigInt(arg.key) : arg.value.kind === 'const' && arg.value.c.kind === 'int' ? arg.value.c.value : BigInt(i);
          const weight = arg.key !== undefined && arg.value.kind === 'const' && arg.value.c.kind === 'int' ? Number(arg.value.c.value) : 100;
          return { id: i, weight, actions: [setBits(dst, value), { type: 'resubmit', table: this.nextTable() }] };
        });
        out.push({ type: 'group', group: this.ctx.addSelectGroup(buckets) });
        return;
      }
      default:
        // chk_lb_hairpin(_reply), lookup_arp_ip, chk_ecmp_nh(_mac), check_pkt_larger, chk_lb_aff:
        // the conditions these test are not modelled by this switch yet; they read as false.
        out.push(setBits(dst, 0n));
    }
  }

  private fieldArg(v: ArgValue | undefined): SubField {
    if (!v || v.kind !== 'field') throw new ActionCompileError('expected a field argument');
    return sub(v.ref);
  }

  private call(a: Extract<LAction, { kind: 'call' }>, out: Action[]): void {
    const next = this.nextTable();
    const natArg = (isDst: boolean): NatSpec | undefined => {
      const ip = argOf(a.args, 0);
      if (!ip || ip.kind !== 'const' || ip.c.kind !== 'int') return undefined;
      const ports = argOf(a.args, 1);
      const range = ports?.kind === 'range' ? { portMin: Number(ports.lo.value), portMax: Number(ports.hi.value) } : ports?.kind === 'const' && ports.c.kind === 'int' ? { portMin: Number(ports.c.value), portMax: Number(ports.c.value) } : {};
      return { kind: isDst ? 'dst' : 'src', ipMin: ip.c.value, ipv6: ip.c.format === 'ipv6', ...range };
    };
    switch (a.name) {
      case 'ct_next':
        out.push({ type: 'ct', commit: false, force: false, zone: this.zone(this.ctx.isRouter ? 'dnat' : 'ct'), table: next, exec: [] });
        return;
      case 'ct_commit':
        out.push(this.ctCommit([]));
        return;
      case 'ct_clear':
        out.push({ type: 'ct_clear' });
        return;
      case 'ct_dnat':
      case 'ct_snat':
      case 'ct_dnat_in_czone':
      case 'ct_snat_in_czone': {
        const isDst = a.name.startsWith('ct_dnat');
        const common = a.name.endsWith('_in_czone');
        const nat = natArg(isDst);
        const zone = this.zone(common ? 'dnat' : isDst ? 'dnat' : 'snat');
        out.push({ type: 'ct', commit: nat !== undefined, force: false, zone, table: next, nat: nat ?? {}, exec: [] });
        return;
      }
      case 'ct_commit_nat':
      case 'ct_snat_to_vip':
      case 'ct_lb':
      case 'ct_lb_mark':
        // NAT as the connection already has it (un-NAT of a reply, established LB connection).
        out.push({ type: 'ct', commit: false, force: false, zone: this.zone(a.name === 'ct_snat_to_vip' ? 'snat' : 'dnat'), table: next, nat: {}, exec: [] });
        return;
      case 'get_arp':
      case 'get_nd': {
        // Table 66 matches (outport, IP in reg0/xxreg0) and sets eth.dst; a miss leaves it zero.
        const v6 = a.name === 'get_nd';
        const ipReg: SubField = v6 ? { field: 'xxreg0', ofs: 0, bits: 128 } : { field: 'reg0', ofs: 0, bits: 32 };
        const ip = this.fieldArg(argOf(a.args, 1));
        const same = ip.field === ipReg.field && ip.ofs === ipReg.ofs && ip.bits === ipReg.bits;
        out.push(setBits({ field: 'eth_dst', ofs: 0, bits: 48 }, 0n));
        if (!same) out.push({ type: 'stack_push', src: ipReg }, { type: 'move', src: ip, dst: ipReg });
        out.push({ type: 'resubmit', table: OFTABLE.MAC_BINDING });
        if (!same) out.push({ type: 'stack_pop', dst: ipReg });
        return;
      }
      case 'set_queue':
        return;
      default:
        if (CONTROLLER_CALLS.has(a.name)) out.push(this.controller(a, a.name, false));
        // Anything else changes nothing on this switch (commit_ecmp_nh, fwd_group …).
        return;
    }
  }

  private ctCommit(body: readonly LAction[]): Action {
    const exec: Action[] = [];
    for (const b of body) {
      if (b.kind === 'assign' && b.src.kind === 'const' && b.src.c.kind === 'int') exec.push(setBits(sub(b.dst), b.src.c.value));
      else if (b.kind === 'assign' && b.src.kind === 'field') exec.push({ type: 'move', src: sub(b.src.ref), dst: sub(b.dst) });
    }
    return { type: 'ct', commit: true, force: false, zone: this.zone(this.ctx.isRouter ? 'dnat' : 'ct'), exec };
  }

  private ctLb(backends: readonly { ip: { value: bigint; format: string }; port: number | undefined }[], out: Action[]): void {
    const next = this.nextTable();
    const zone = this.zone(this.ctx.isRouter ? 'dnat' : 'ct');
    // ct_lb_mark marks the connection natted (ct_mark bit 1) so replies and later packets know.
    const natted: Action = { type: 'set_field', field: 'ct_mark', value: 2n, mask: 2n };
    const bucketActions = (b: (typeof backends)[number]): Action[] => [
      {
        type: 'ct',
        commit: true,
        force: false,
        zone,
        table: next,
        nat: { kind: 'dst', ipMin: b.ip.value, ipv6: b.ip.format === 'ipv6', ...(b.port !== undefined ? { portMin: b.port, portMax: b.port } : {}) },
        exec: [natted],
      },
    ];
    if (backends.length === 0) {
      out.push({ type: 'ct', commit: false, force: false, zone, table: next, nat: {}, exec: [] });
      return;
    }
    if (backends.length === 1) {
      out.push(...bucketActions(backends[0]!));
      return;
    }
    const id = this.ctx.addSelectGroup(backends.map((b, i) => ({ id: i, weight: 100, actions: bucketActions(b) })));
    out.push({ type: 'group', group: id });
  }

  private block(a: Extract<LAction, { kind: 'block' }>, out: Action[]): void {
    if (a.name === 'ct_commit') {
      out.push(this.ctCommit(a.body));
      return;
    }
    if (a.name === 'clone') {
      out.push({ type: 'clone', actions: this.compile(a.body) });
      return;
    }
    if (CONTROLLER_BLOCKS.has(a.name)) {
      out.push(this.controller(a, a.name, false));
      return;
    }
    throw new ActionCompileError(`cannot compile ${a.name} { … }`);
  }
}
