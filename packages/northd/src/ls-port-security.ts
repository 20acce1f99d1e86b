/**
 * Logical switch admission and port security (ls_in_check_port_sec, ls_in_apply_port_sec,
 * ls_out_check_port_sec, ls_out_apply_port_sec). Since OVN 22.12 the per-port address checks
 * are done by ovn-controller (check_in_port_sec()/check_out_port_sec() against
 * Port_Binding.port_security), so the flows are generic, plus drops for disabled ports.
 */
import type { BuildContext } from './context.js';
import type { Datapath, Port } from './model.js';
import { lspIsEnabled } from './model.js';
import { LS_IN, LS_OUT } from './stages.js';

const SRC = 'ls-port-security.ts';

export function isVlanTransparent(od: Datapath): boolean {
  return od.nbs?.other_config['vlan-passthru'] === 'true';
}

export function buildLsAdmission(ctx: BuildContext, od: Datapath): void {
  const f = ctx.lflows;
  const drop = ctx.dropAction;
  if (!isVlanTransparent(od)) f.add(od.key, LS_IN.check_port_sec, 100, 'vlan.present', drop, { source: SRC });
  f.add(od.key, LS_IN.check_port_sec, 100, 'eth.src[40]', drop, { source: SRC });
  f.add(od.key, LS_IN.check_port_sec, 50, '1', 'reg0[15] = check_in_port_sec(); next;', { source: SRC });
  f.add(od.key, LS_IN.apply_port_sec, 50, 'reg0[15] == 1', drop, { source: SRC });
  f.add(od.key, LS_IN.apply_port_sec, 0, '1', 'next;', { source: SRC });

  f.add(od.key, LS_OUT.check_port_sec, 100, 'eth.mcast', 'reg0[15] = 0; next;', { source: SRC });
  f.add(od.key, LS_OUT.check_port_sec, 0, '1', 'reg0[15] = check_out_port_sec(); next;', { source: SRC });
  f.add(od.key, LS_OUT.apply_port_sec, 50, 'reg0[15] == 1', drop, { source: SRC });
  f.add(od.key, LS_OUT.apply_port_sec, 0, '1', 'output;', { source: SRC });
}

/** Per port: disabled ports drop both ways; queues and VTEP ports get their own admission. */
export function buildLsPortSecurityOp(ctx: BuildContext, op: Port, queueId: string | undefined): void {
  const lsp = op.nbsp;
  if (!lsp || lsp.type === 'external') return;
  const f = ctx.lflows;
  const o = { hint: op.uuid, ioPort: op.name, source: SRC };
  if (!lspIsEnabled(lsp)) {
    f.add(op.od.key, LS_IN.check_port_sec, 100, `inport == ${op.json}`, 'reg0[15] = 1; next;', o);
    f.add(op.od.key, LS_IN.l2_unknown, 50, `outport == ${op.json}`, ctx.dropAction, o);
    return;
  }
  let actions = '';
  if (queueId !== undefined) actions += `set_queue(${queueId}); `;
  if (lsp.type === 'vtep') actions += `reg0[14] = 1; next(pipeline=ingress, table=${LS_IN.hairpin.table});`;
  else if (actions !== '') actions += 'next;';
  if (actions !== '') f.add(op.od.key, LS_IN.check_port_sec, 70, `inport == ${op.json}`, actions, o);
}
