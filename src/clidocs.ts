/**
 * The man page and the shell completions, written from the very command
 * definitions the CLI parses with (buildProgram): a command or option cannot
 * exist in one and not the other. `npm run docs` writes them into man/ and
 * completions/; a test fails when the committed files are not what this
 * module writes now.
 */
import type { Argument, Command, Option } from 'commander';
import { TOOL_NAME, TOOL_VERSION } from './version.js';
import { buildProgram } from './cli.js';
import { KNOWN_DISTRO_IDS } from './variant/distro.js';
import { KNOWN_MACHINES } from './packages/arch.js';
import { BugError } from './errors.js';

/** What a shell offers for a value: paths, directories, installed kernels, a fixed list, or nothing (free text). */
export type ValueCompletion = { kind: 'files' } | { kind: 'dirs' } | { kind: 'kernels' } | { kind: 'words'; words: readonly string[] } | { kind: 'none' };

/**
 * The value an option or argument takes, by the placeholder its definition
 * already names (`--kernel-version <kver>`), so a completion is never a file
 * list for a kernel version or a package list. A placeholder not here is a
 * bug the docs test catches: the generator throws.
 */
const VALUE_COMPLETIONS: Record<string, ValueCompletion> = {
  path: { kind: 'files' },
  paths: { kind: 'files' },
  file: { kind: 'files' },
  dir: { kind: 'dirs' },
  kver: { kind: 'kernels' },
  id: { kind: 'words', words: KNOWN_DISTRO_IDS },
  arch: { kind: 'words', words: KNOWN_MACHINES },
  list: { kind: 'none' },
  'name=path': { kind: 'none' },
};

interface Opt {
  flags: string;
  long: string | undefined;
  short: string | undefined;
  description: string;
  choices: readonly string[] | undefined;
  takesValue: boolean;
  /** The value's name in the flags (`kver` of `--kernel-version <kver>`); null for a flag. */
  placeholder: string | null;
  /** What a shell completes after it; null for a flag. */
  value: ValueCompletion | null;
}

interface Arg {
  name: string;
  description: string;
  variadic: boolean;
  value: ValueCompletion;
}

interface Cmd {
  name: string;
  description: string;
  usage: string;
  options: Opt[];
  args: Arg[];
}

function completionFor(placeholder: string, what: string): ValueCompletion {
  const c = Object.hasOwn(VALUE_COMPLETIONS, placeholder) ? VALUE_COMPLETIONS[placeholder] : undefined;
  if (!c) throw new BugError(`${what}: no completion is declared for <${placeholder}> (src/clidocs.ts VALUE_COMPLETIONS)`);
  return c;
}

function opts(options: readonly Option[]): Opt[] {
  return options
    .filter((o) => !o.hidden)
    .map((o) => {
      const takesValue = o.required || o.optional;
      const placeholder = takesValue ? (/[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? '') : null;
      const value: ValueCompletion | null = placeholder === null ? null : o.argChoices ? { kind: 'words', words: o.argChoices } : completionFor(placeholder, o.flags);
      return { flags: o.flags, long: o.long, short: o.short, description: o.description, choices: o.argChoices, takesValue, placeholder, value };
    });
}

function args(list: readonly Argument[]): Arg[] {
  return list.map((a) => ({ name: a.name(), description: a.description, variadic: a.variadic, value: completionFor(a.name(), `argument <${a.name()}>`) }));
}

/** What the CLI declares, as plain data. */
export function cliModel(): { program: Cmd; commands: Cmd[] } {
  const program = buildProgram({ stdout: () => undefined, stderr: () => undefined }, () => undefined) as unknown as Command;
  const cmd = (c: Command): Cmd => ({ name: c.name(), description: c.description(), usage: c.usage(), options: opts(c.options), args: args(c.registeredArguments) });
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

/** The bash statement that fills COMPREPLY for a value of this kind (the word being completed is $cur). */
function bashValue(v: ValueCompletion): string {
  switch (v.kind) {
    // -o filenames: a directory gets its slash and no space, and names are quoted as file names.
    case 'files':
      return 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))';
    case 'dirs':
      return 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur"))';
    case 'kernels':
      return 'COMPREPLY=($(compgen -d -- "/usr/lib/modules/$cur")); COMPREPLY=("${COMPREPLY[@]#/usr/lib/modules/}")';
    case 'words':
      return `COMPREPLY=($(compgen -W "${v.words.join(' ')}" -- "$cur"))`;
    case 'none':
      return 'COMPREPLY=()';
  }
}

/** A function of the completion file: the kernels that have modules here, which is what mkosi-initrd can build for. */
const ZSH_KERNELS = `_${TOOL_NAME.replace(/-/g, '_')}_kernels`;

/** The zsh _arguments action for a value of this kind. */
function zshValue(v: ValueCompletion): string {
  switch (v.kind) {
    case 'files':
      return '_files';
    case 'dirs':
      return '_files -/';
    case 'kernels':
      return ZSH_KERNELS;
    case 'words':
      return `(${v.words.join(' ')})`;
    case 'none':
      return ' ';
  }
}

const flagWords = (o: Opt) => [o.long, o.short].filter((w): w is string => !!w);

export function bashCompletion(): string {
  const { program, commands } = cliModel();
  const words = (o: Opt[]) => o.flatMap(flagWords).join(' ');
  const fn = `_${TOOL_NAME.replace(/-/g, '_')}`;
  // One case per command and flag: the same flag takes a file in one command and a directory in another.
  const valueCases = [{ ...program, name: '' }, ...commands].flatMap((c) =>
    c.options.filter((o) => o.value).map((o) => `    ${flagWords(o).map((w) => JSON.stringify(`${c.name} ${w}`)).join('|')}) ${bashValue(o.value!)}; return ;;`),
  );
  // A command's positional arguments, once no option is being typed.
  const argCases = commands.filter((c) => c.args.length).map((c) => `    ${c.name}) ${bashValue(c.args[0]!.value)}; return ;;`);
  return `# bash completion for ${TOOL_NAME} (generated from its command definitions)
${fn}() {
  local cur prev cmd opts i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${commands.map((c) => c.name).join('|')}) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$cmd $prev" in
${valueCases.join('\n')}
  esac
  if [[ "$cur" != -* ]]; then
    case "$cmd" in
${argCases.join('\n')}
    esac
  fi
  case "$cmd" in
${commands.map((c) => `    ${c.name}) opts="${words(c.options)} --help" ;;`).join('\n')}
    "") opts="${commands.map((c) => c.name).join(' ')} ${words(program.options)} --help --version" ;;
  esac
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F ${fn} ${TOOL_NAME}
`;
}

export function zshCompletion(): string {
  const { program, commands } = cliModel();
  const q = (s: string) => s.replace(/'/g, `'\\''`).replace(/[[\]:]/g, '\\$&');
  const spec = (o: Opt) => {
    const value = o.value ? `:${q(o.placeholder ?? 'value')}:${zshValue(o.value).replace(/'/g, `'\\''`)}` : '';
    // A short and a long spelling exclude each other and complete alike.
    return o.short ? `'(${o.short} ${o.long})'{${o.short},${o.long}}'[${q(o.description)}]${value}'` : `'${o.long}[${q(o.description)}]${value}'`;
  };
  const argSpec = (a: Arg) => `'${a.variadic ? '*' : ''}:${q(a.name)}:${zshValue(a.value)}'`;
  const sub = commands
    .map((c) => `    (${c.name})\n      _arguments ${[...c.options.filter((o) => o.long).map(spec), ...c.args.map(argSpec)].join(' \\\n        ')}\n      ;;`)
    .join('\n');
  return `#compdef ${TOOL_NAME}
# zsh completion for ${TOOL_NAME} (generated from its command definitions)
${ZSH_KERNELS}() {
  local -a kernels
  kernels=(/usr/lib/modules/*(N/:t))
  compadd -a kernels
}
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
