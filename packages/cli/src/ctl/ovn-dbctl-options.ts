/**
 * Options ovn-nbctl and ovn-sbctl share (ovn-dbctl): accepted as the real tools accept them.
 * true: takes an argument; 'optional': may take one; false: a flag.
 */
export const OVN_DBCTL_OPTIONS = {
  'no-wait': false,
  wait: true,
  'print-wait-time': false,
  'leader-only': false,
  'no-leader-only': false,
  'shuffle-remotes': false,
  'no-shuffle-remotes': false,
  unixctl: true,
  detach: false,
  'no-chdir': false,
  pidfile: 'optional',
  'overwrite-pidfile': false,
  monitor: false,
} as const;
