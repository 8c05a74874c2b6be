/**
 * The man page and the shell completions, written from the very command
 * definitions the CLI parses with (buildProgram): a command or option cannot
 * exist in one and not the other. `npm run docs` writes them into man/ and
 * completions/; a test fails when the committed files are not what this
 * module writes now.
 */
import type { Command, Option } from 'commander';
import { TOOL_NAME, TOOL_VERSION } from './version.js';
import { buildProgram } from './cli.js';

interface Opt {
  flags: string;
  long: string | undefined;
  short: string | undefined;
  description: string;
  choices: readonly string[] | undefined;
  takesValue: boolean;
}

interface Cmd {
  name: string;
  description: string;
  usage: string;
  options: Opt[];
}

function opts(options: readonly Option[]): Opt[] {
  return options
    .filter((o) => !o.hidden)
    .map((o) => ({ flags: o.flags, long: o.long, short: o.short, description: o.description, choices: o.argChoices, takesValue: o.required || o.optional }));
}

/** What the CLI declares, as plain data. */
export function cliModel(): { program: Cmd; commands: Cmd[] } {
  const program = buildProgram({ stdout: () => undefined, stderr: () => undefined }, () => undefined) as unknown as Command;
  const cmd = (c: Command): Cmd => ({ name: c.name(), description: c.description(), usage: c.usage(), options: opts(c.options) });
  return { program: cmd(program), commands: program.commands.map(cmd) };
}

/** roff needs its own escapes: a leading dot or quote, backslashes, hyphens in option names, and anything beyond ASCII as \\[uXXXX]. */
const roff = (s: string) =>
  s
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1')
    .replace(/[^\x00-\x7f]/gu, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);

function optionItems(options: Opt[]): string[] {
  const out: string[] = [];
  for (const o of options) {
    out.push('.TP', `.B ${roff(o.flags)}`, roff(o.description + (o.choices ? ` (one of: ${o.choices.join(', ')})` : '')));
  }
  return out;
}

export function manPage(): string {
  const { program, commands } = cliModel();
  const lines = [
    // No date: the page is a function of the command definitions alone, so it is the same on every build.
    `.TH ${TOOL_NAME.toUpperCase().replace(/-/g, '\\-')} 1 "" "${TOOL_NAME} ${TOOL_VERSION}" "User Commands"`,
    '.SH NAME',
    `${roff(TOOL_NAME)} \\- ${roff(program.description)}`,
    '.SH SYNOPSIS',
    `.B ${roff(TOOL_NAME)}`,
    '[\\fIOPTIONS\\fR]',
    ...commands.flatMap((c) => ['.br', `.B ${roff(TOOL_NAME)} ${roff(c.name)}`, roff(c.usage)]),
    '.SH DESCRIPTION',
    `Without a command, ${roff(TOOL_NAME)} opens the interactive wizard on a capable terminal (Host, Variant, Packages, Closure, Build, Review, Install); under CI, without a terminal or with \\fB\\-\\-json\\fR it prints a pointer to the commands.`,
    'Every command prints text for people, or one JSON document with \\fB\\-\\-json\\fR.',
    '.SH OPTIONS',
    ...optionItems(program.options),
    '.SH COMMANDS',
    ...commands.flatMap((c) => ['.SS ' + roff(`${c.name} ${c.usage}`), roff(c.description), ...optionItems(c.options)]),
    '.SH EXIT STATUS',
    '.TP', '.B 0', 'success',
    '.TP', '.B 1', 'the operation failed (the JSON, when asked for, still says why)',
    '.TP', '.B 2', 'bad usage or bad input: the message names the problem and the next step',
    '.TP', '.B 3', 'the storage is unsupported by a package\\-built initrd, or the snapshot lacks a needed fact',
    '.SH FILES',
    '.TP', '.I /etc/kernel/install.conf', 'where install sets initrd_generator=mkosi\\-initrd',
    '.TP', '.I /etc/mkosi\\-initrd/mkosi.conf.d/50\\-initrd\\-wizard.conf', 'the drop\\-in install writes',
    '.TP', '.I /var/lib/initrd\\-wizard/', 'the install journal revert reads',
    '.SH SEE ALSO',
    '.BR mkosi (1),',
    '.BR kernel\\-install (8),',
    '.BR dracut (8)',
  ];
  return lines.join('\n') + '\n';
}

export function bashCompletion(): string {
  const { program, commands } = cliModel();
  const words = (o: Opt[]) => o.flatMap((x) => [x.long, x.short].filter((w): w is string => !!w)).join(' ');
  const cases = commands.map((c) => `    ${c.name}) opts="${words(c.options)} --help" ;;`).join('\n');
  const choices = [...program.options, ...commands.flatMap((c) => c.options)].filter((o) => o.choices && o.long);
  const choiceCases = [...new Map(choices.map((o) => [o.long!, o.choices!.join(' ')]))].map(([flag, list]) => `    ${flag}) COMPREPLY=($(compgen -W "${list}" -- "$cur")); return ;;`).join('\n');
  const valueFlags = [...new Set([...program.options, ...commands.flatMap((c) => c.options)].filter((o) => o.takesValue && !o.choices).flatMap((o) => [o.long, o.short].filter((w): w is string => !!w)))].join('|');
  return `# bash completion for ${TOOL_NAME} (generated from its command definitions)
_${TOOL_NAME.replace(/-/g, '_')}() {
  local cur prev cmd opts i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
${choiceCases}
    ${valueFlags}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${commands.map((c) => c.name).join('|')}) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$cmd" in
${cases}
    "") opts="${commands.map((c) => c.name).join(' ')} ${words(program.options)} --help --version" ;;
  esac
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _${TOOL_NAME.replace(/-/g, '_')} ${TOOL_NAME}
`;
}

export function zshCompletion(): string {
  const { program, commands } = cliModel();
  const q = (s: string) => s.replace(/'/g, `'\\''`).replace(/[[\]:]/g, '\\$&');
  const spec = (o: Opt) => {
    const value = o.takesValue ? (o.choices ? `:value:(${o.choices.join(' ')})` : ':value:_files') : '';
    return `'${o.long}[${q(o.description)}]${value}'`;
  };
  const sub = commands
    .map((c) => `    (${c.name})\n      _arguments ${c.options.filter((o) => o.long).map(spec).join(' \\\n        ')} ${c.name === 'fleet' ? "'*:snapshot:_files -/'" : ''}\n      ;;`)
    .join('\n');
  return `#compdef ${TOOL_NAME}
# zsh completion for ${TOOL_NAME} (generated from its command definitions)
_${TOOL_NAME.replace(/-/g, '_')}() {
  local -a commands
  commands=(
${commands.map((c) => `    '${c.name}:${q(c.description)}'`).join('\n')}
  )
  _arguments -C ${program.options.filter((o) => o.long).map(spec).join(' ')} '1: :->cmd' '*:: :->args'
  case $state in
    (cmd) _describe 'command' commands ;;
    (args)
      case $words[1] in
${sub}
      esac
      ;;
  esac
}
_${TOOL_NAME.replace(/-/g, '_')} "$@"
`;
}
