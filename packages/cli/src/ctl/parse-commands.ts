/**
 * Splits the command words on "--" into commands, each with its leading `--option[=value]`
 * words, and checks names, options and argument counts with OVS's messages.
 */
import { fail } from './errors.js';
import type { CommandEntry, CommandSpec, ToolSpec } from './tool.js';

export interface ParsedCommand<Spec extends CommandEntry | CommandSpec = CommandEntry> {
  readonly spec: Spec;
  /** argv[0] is the command name. */
  readonly argv: readonly string[];
  readonly options: Map<string, string | null>;
}

export function parseCommands(tool: ToolSpec, words: readonly string[], firstOptions: Map<string, string | null>): ParsedCommand[] {
  const commands: ParsedCommand[] = [];
  let local = firstOptions;
  let start = 0;
  for (let i = 0; i <= words.length; i++) {
    if (i < words.length && words[i] !== '--') continue;
    if (i > start) {
      commands.push(parseCommand(tool, words.slice(start, i), local));
      local = new Map();
    } else if (local.size > 0) {
      fail('missing command name (use --help for help)');
    }
    start = i + 1;
  }
  if (commands.length === 0) fail('missing command name (use --help for help)');
  return commands;
}

/** Loads the code of parsed commands (each command module is imported once, when first needed). */
export async function loadCommands(commands: readonly ParsedCommand[]): Promise<ParsedCommand<CommandSpec>[]> {
  return Promise.all(commands.map(async (c) => ({ argv: c.argv, options: c.options, spec: await c.spec.load() })));
}

function parseCommand(tool: ToolSpec, words: readonly string[], inherited: Map<string, string | null>): ParsedCommand {
  const options = new Map(inherited);
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (!w.startsWith('-')) break;
    const eq = w.indexOf('=');
    const key = eq < 0 ? w : w.slice(0, eq);
    if (options.has(key)) fail(`'${w}' option specified multiple times`);
    options.set(key, eq < 0 ? null : w.slice(eq + 1));
  }
  if (i === words.length) fail('missing command name (use --help for help)');
  const name = words[i]!;
  const spec = tool.commands.find((c) => c.name === name);
  if (!spec) fail(`unknown command '${name}'; use --help for help`);
  for (const [key, value] of options) {
    // OVS looks the option up with strstr() in the command's option list.
    const at = spec.options.indexOf(key);
    const end = at < 0 ? undefined : spec.options.charAt(at + key.length);
    if (end === undefined || !'=,? '.includes(end)) fail(`'${name}' command has no '${key}' option`);
    if (end !== '?' && (end === '=') !== (value !== null)) {
      if (end === '=') fail(`missing argument to '${key}' option on '${name}' command`);
      fail(`'${key}' option on '${name}' does not accept an argument`);
    }
  }
  const nArgs = words.length - i - 1;
  if (nArgs < spec.minArgs) fail(`'${spec.name}' command requires at least ${spec.minArgs} arguments`);
  if (nArgs > spec.maxArgs) {
    if (words.slice(i + 1).some((w) => w.startsWith('-'))) {
      fail(`'${spec.name}' command takes at most ${spec.maxArgs} arguments (note that options must precede command names and follow a "--" argument)`);
    }
    fail(`'${spec.name}' command takes at most ${spec.maxArgs} arguments`);
  }
  return { spec, argv: words.slice(i), options };
}
