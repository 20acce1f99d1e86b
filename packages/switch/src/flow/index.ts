/**
 * Flow tables for the switch: matches over the flow key, the action model, a tuple-space
 * classifier, OpenFlow-style tables with flow mods and bundles, groups, and ovs-ofctl's text
 * syntax for all of them. See docs/switch-flows.md.
 */
export type { Match, BitLoc } from './match.js';
export {
  newMatch,
  cloneMatch,
  setExact,
  setMasked,
  clearField,
  getValue,
  getMask,
  readBits,
  writeBits,
  matches,
  matchEqual,
  covers,
  isCatchAll,
  normalizeMatch,
  isNormalized,
} from './match.js';

export type { OfField, ValueFormat } from './catalog.js';
export { OF_FIELDS, lookupOfField, ofField } from './catalog.js';

export type {
  Action,
  ActionType,
  SubField,
  NatSpec,
  ControllerReason,
  OutputAction,
  OutputRegAction,
  ControllerAction,
  ResubmitAction,
  GotoTableAction,
  SetFieldAction,
  MoveAction,
  DecTtlAction,
  PushVlanAction,
  PopVlanAction,
  ModVlanVidAction,
  ModVlanPcpAction,
  ConjunctionAction,
  GroupAction,
  CloneAction,
  CtAction,
  CtClearAction,
  NoteAction,
  ExitAction,
  StackPushAction,
  StackPopAction,
} from './actions.js';
export { OFPP, outputsTo, outputsToGroup, actionsEqual } from './actions.js';

export type { Group, GroupType, Bucket, GroupField } from './group.js';
export { GroupTable, groupHash, selectBucket, groupBuckets } from './group.js';

export type { Classifiable } from './classifier.js';
export { Classifier, beats } from './classifier.js';

export type { FlowEntry, FlowMod, FlowModCommand, FlowModResult, FlowTablesOptions, FlowFilter } from './table.js';
export { FlowTables, FlowModError, sameFlow, DEFAULT_PRIORITY, N_TABLES, ALL_TABLES } from './table.js';

export { FlowSyntaxError } from './tokens.js';
export type { PortNames } from './values.js';
export { parsePort, formatPort, CT_STATE_FLAGS, TCP_FLAG_NAMES } from './values.js';
export type { MatchSyntaxOptions } from './match-syntax.js';
export { parseMatch, printMatch } from './match-syntax.js';
export type { OfVersion, ActionSyntaxOptions, ActionPrintOptions } from './action-syntax.js';
export { parseActions, printActions, parseSubField, formatSubField, parseOfVersion } from './action-syntax.js';
export type { FlowParseOptions, FlowPrintOptions, FlowText, DumpOptions } from './syntax.js';
export { parseFlowMod, parseFlowMods, printFlow, printDumpFlow, printMatchActions, formatDuration } from './syntax.js';
export type { GroupSyntaxOptions } from './group-syntax.js';
export { parseGroup, printGroup } from './group-syntax.js';
