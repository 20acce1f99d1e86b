/** --help and --commands text. */
import type { ToolSpec } from './tool.js';

const TITLES: Record<string, string> = {
  'ovn-nbctl': 'OVN northbound DB management utility',
  'ovn-sbctl': 'OVN southbound DB management utility',
  'ovs-vsctl': 'Open vSwitch database management utility',
};

export function usage(tool: ToolSpec): string {
  const sub = tool.program.replace(/^ov[ns]-/, '');
  const lines = [
    `ovnts ${sub}: ${TITLES[tool.program] ?? tool.program} (compatible with ${tool.program})`,
    `usage: ovnts ${sub} [OPTIONS] COMMAND [ARG...] [-- [OPTIONS] COMMAND [ARG...]]...`,
    '',
    'Commands:',
    ...tool.commands.map((c) => `  ${c.options ? c.options.split(',').map((o) => `[${o}] `).join('') : ''}${c.name} ${c.args}`.trimEnd()),
    '',
    'Options:',
    `  --db=DATABASE               connect to DATABASE (default: ${tool.defaultDb()})`,
    '  -t, --timeout=SECS          wait at most SECS seconds',
    '  --dry-run                   do not commit changes to database',
    '  --oneline                   print exactly one line of output per command',
    '  -f, --format=FORMAT         output format: "list" (default), "table", "csv", "json" or "html"',
    '  -d, --data=FORMAT           cell format: "string", "bare" or "json"',
    '  --no-headings               omit table heading row',
    '  --pretty                    pretty-print JSON in output',
    '  --bare                      equivalent to "--format=list --data=bare --no-headings"',
    '  --columns=COLUMN,...        (list, find) print only these columns',
    ...(tool.daemon
      ? [
          '  --detach                    run in the background, taking commands on a control socket',
          '                              (printed; export it as ' + tool.daemon.env + ')',
          '  --pidfile[=FILE], --unixctl=SOCKET, --log-file[=FILE], --no-chdir   (with --detach)',
        ]
      : []),
    '  -h, --help                  display this help message',
    '  -V, --version               display version information',
    '',
  ];
  return lines.join('\n');
}

/** The argument syntax in the form bash completion wants (OVS's print_command_arguments). */
function completionArgs(args: string): string {
  if (!args) return '';
  const out: string[] = [];
  let stack = 0;
  let inRepeated = false;
  let wholeWordOptional = false;
  for (let i = args.length; i > 0; ) {
    const c = args[--i]!;
    switch (c) {
      case ']':
        stack <<= 1;
        if (i + 1 >= args.length || args[i + 1] === ' ' || args[i + 1] === '.') stack |= 1;
        break;
      case '[':
        if ((i === 0 || args[i - 1] === ' ') && stack & 1) {
          out.unshift(inRepeated ? '*' : '?');
          wholeWordOptional = true;
        } else {
          out.unshift('?');
          wholeWordOptional = false;
        }
        stack >>= 1;
        break;
      case ' ':
        if (!wholeWordOptional) out.unshift(inRepeated ? '+' : '!');
        out.unshift(' ');
        inRepeated = false;
        wholeWordOptional = false;
        break;
      case '.':
        inRepeated = true;
        break;
      default:
        out.unshift(c);
    }
  }
  if (args[0] !== '[' && out.length > 0) out.unshift(inRepeated ? '+' : '!');
  return out.join('');
}

export function commandList(tool: ToolSpec): string {
  return tool.commands
    .map((c) => {
      const opts = c.options
        .split(',')
        .filter(Boolean)
        .map((o) => `[${o}] `)
        .join('');
      return `${opts},${c.name},${completionArgs(c.args)}\n`;
    })
    .join('');
}
