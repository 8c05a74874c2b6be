/**
 * argv → a command → its answer. The one place that prints results and exits
 * the process: commands return values and throw WizardErrors, never exit.
 */
// extra-typings: each command's options are typed from their declarations, so no flag is read through a cast.
import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import { ExitCode, InputError, WizardError } from './errors.js';
import { CommandError } from './system/run.js';
import { TOOL_NAME, TOOL_VERSION } from './version.js';
import { jsonForTerminal, printable } from './text/printable.js';
import { fsError, isKnownFsError } from './system/fserrors.js';
import { isStreamed, type CommandResult, type StreamedResult } from './commands/result.js';
import { commandLine, reportHint } from './paths.js';

interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const defaultIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

/**
 * Everything printed goes through here, made safe for a terminal: the text
 * names devices, mount points and package names from other machines.
 */
function safeIo(io: Io): Io {
  return { stdout: (s) => io.stdout(printable(s)), stderr: (s) => io.stderr(printable(s)) };
}

const jsonText = (value: unknown) => jsonForTerminal(JSON.stringify(value, null, 2)) + '\n';

async function report(result: CommandResult | StreamedResult, json: boolean, io: Io, raw: Io): Promise<number> {
  if (isStreamed(result)) {
    for await (const piece of result.stream(json ? 'json' : 'text')) {
      if (json) raw.stdout(jsonForTerminal(piece));
      else io.stdout(piece);
    }
    return result.exitCode();
  }
  for (const d of result.diagnostics ?? []) io.stderr(d + '\n');
  if (json) raw.stdout(jsonText(result.json));
  else io.stdout(result.text + '\n');
  return result.exitCode;
}

function reportError(caught: unknown, json: boolean, io: Io, raw: Io): number {
  // EACCES, EROFS, ENOSPC … are the machine's state, said in words: not a bug.
  const where = (caught as NodeJS.ErrnoException | undefined)?.path;
  const err = !(caught instanceof WizardError) && isKnownFsError(caught) ? fsError(caught, where ? `accessing ${where}` : 'a file operation') : caught;
  if (err instanceof WizardError) {
    const body: Record<string, unknown> = { message: err.message };
    if (err.hint) body.hint = err.hint;
    if (err instanceof CommandError) Object.assign(body, { command: err.argv, exitCode: err.exitCode_, stderr: err.stderr.slice(-2000) });
    if (json) raw.stdout(jsonText({ error: body }));
    io.stderr(`${TOOL_NAME}: error: ${err.message}\n`);
    if (err.hint) io.stderr(`${TOOL_NAME}: next step: ${err.hint}\n`);
    return err.exitCode;
  }
  // A bug (a BugError, or anything else nobody turned into a WizardError), not a user error: say so plainly; the stack only on request.
  const message = err instanceof Error ? err.message : String(err);
  if (json) raw.stdout(jsonText({ error: { message: `internal error: ${message}` } }));
  io.stderr(`${TOOL_NAME}: internal error: ${message}\n`);
  if (process.env.INITRD_WIZARD_DEBUG && err instanceof Error && err.stack) io.stderr(err.stack + '\n');
  else io.stderr(`${TOOL_NAME}: ${reportHint()} (set INITRD_WIZARD_DEBUG=1 for details)\n`);
  return ExitCode.failed;
}

/** --arch: the same words everywhere it is offered; the value is checked where it is used (an InputError naming the known ones). */
const archOption = (prefix = '') =>
  new Option('--arch <arch>', `${prefix}the target machine's architecture as uname -m, rpm or dpkg name it (x86_64, aarch64, amd64, arm64 …; default: the snapshot's, else this machine's)`);

export function buildProgram(rawIo: Io, done: (code: number) => void) {
  const io = safeIo(rawIo);
  const program = new Command(TOOL_NAME)
    .description('Move this machine\'s initrd to mkosi-initrd, built from distribution packages, safely.')
    .version(TOOL_VERSION)
    .option('--demo', 'the interactive wizard on a bundled demo host, repository and temporary root (no root, no changes)')
    .option('--snapshot <path>', 'wizard: read host facts from a snapshot directory or archive (diagnose another machine)')
    .option('--root <dir>', 'wizard: install into this root directory instead of /')
    .option('--fleet <path>', 'wizard: a table of many hosts\' snapshots (a directory of them, as `fleet` reads) and the variants that cover them; ⏎ opens a host')
    .addOption(archOption('wizard: '))
    .option('--json', 'print one JSON document on stdout')
    // Options before a subcommand are the wizard's; after it, the subcommand's own (both have --snapshot).
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');

  /** A command's action: its typed options (with the program's), the answer reported, any error turned into an exit code here. */
  const run =
    <O extends { json?: true }>(fn: (opts: O) => Promise<CommandResult | StreamedResult>) =>
    async (_opts: unknown, cmd: { optsWithGlobals(): O }) => {
      const opts = cmd.optsWithGlobals();
      const json = Boolean(opts.json);
      try {
        done(await report(await fn(opts), json, io, rawIo));
      } catch (err) {
        done(reportError(err, json, io, rawIo));
      }
    };
  const jsonOption = () => new Option('--json', 'print one JSON document on stdout');
  const snapshotOption = () => new Option('--snapshot <path>', 'read host facts from a snapshot (a directory, or FILE.tar) instead of this host');

  program
    .command('snapshot')
    .description('capture this host\'s storage facts into a directory or a tar archive (attach it to bug reports)')
    .option('-o, --output <path>', 'directory to create, or FILE.tar to write one archive (default: ./initrd-wizard-snapshot-<time>)')
    .addOption(jsonOption())
    .action(run(async (o) => (await import('./commands/snapshot.js')).snapshotCommand({ output: o.output })));

  program
    .command('detect')
    .description('show the storage stack the initrd must bring up, its features, and anything unsupported')
    .addOption(snapshotOption())
    .addOption(jsonOption())
    .action(run(async (o) => (await import('./commands/detect.js')).detectCommand({ snapshot: o.snapshot })));

  program
    .command('suggest')
    .description('suggest the mkosi-initrd variant (profiles, packages, modules, host files) for this host')
    .addOption(snapshotOption())
    .option('--distro <id>', 'package names for this distribution (default: the host\'s os-release ID)')
    .addOption(jsonOption())
    .action(
      run(async (o) =>
        (await import('./commands/suggest.js')).suggestCommand({ snapshot: o.snapshot, distro: o.distro }),
      ),
    );

  program
    .command('closure')
    .description('preview the packages the variant pulls into the initrd: sizes and why each is there')
    .option('--distro <id>', 'package names and metadata for this distribution (default: the host\'s)')
    .option('--repo <name=path>', 'use this rpm-md repository (repeatable); only the named ones are used', (v: string, prev: string[] = []) => [...prev, v])
    .option('--packages <list>', 'comma-separated packages instead of the suggested variant')
    .addOption(archOption())
    .addOption(snapshotOption())
    .option('--verify', 'resolve the same request with dnf or apt and compare')
    .option('--weak', 'follow weak dependencies (Recommends) too')
    .addOption(jsonOption())
    .action(
      run(async (o) =>
        (await import('./commands/closure.js')).closureCommand({
          distro: o.distro,
          repo: o.repo,
          packages: o.packages,
          snapshot: o.snapshot,
          arch: o.arch,
          verify: Boolean(o.verify),
          weak: Boolean(o.weak),
        }),
      ),
    );

  const kernelOption = () => new Option('--kernel-version <kver>', 'kernel version to build for (default: the running kernel)');
  // What the built image holds: build renders it and builds it, export renders it for a build elsewhere.
  const slimOption = () => new Option('--slim', 'also remove docs, locales and other files an initrd never reads');
  const genericOption = () => new Option('--generic', 'keep no host-specific modules: mkosi-initrd\'s default list and the storage stack\'s, for any hardware');
  const buildDistroOption = () => new Option('--distro <id>', 'package names for this distribution (default: this machine\'s)');
  /** Ctrl-C / SIGTERM cancel a running build: the child process group is killed and temporary files removed. */
  const cancellable = async <T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      return await fn(ac.signal);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  };
  const progress = (json: boolean) => (stage: string, ms: number) => {
    if (!json) io.stderr(`[${String(Math.round(ms / 1000)).padStart(3)}s] ${stage}\n`);
  };

  program
    .command('build')
    .description('build the variant with mkosi-initrd (without touching /etc) and check the image against this host')
    .addOption(snapshotOption())
    .addOption(kernelOption())
    .option('-o, --output <file>', 'where to write the image (default: ./initrd-<kver>.cpio.zst, or ./uki-<kver>.efi with --format uki)')
    .addOption(slimOption())
    .addOption(genericOption())
    .addOption(buildDistroOption())
    .addOption(archOption())
    .addOption(new Option('--format <format>', 'cpio: an initrd; uki: a unified kernel image (kernel, initrd, command line, os-release)').choices(['cpio', 'uki'] as const).default('cpio' as const))
    .option('--check-reproducible', 'build twice and compare the images member by member')
    .addOption(jsonOption())
    .action(
      run(async (o) => {
        const flags = (signal: AbortSignal) => ({
          snapshot: o.snapshot,
          kernelVersion: o.kernelVersion,
          output: o.output,
          slim: Boolean(o.slim),
          generic: Boolean(o.generic),
          distro: o.distro,
          arch: o.arch,
          format: o.format,
          signal,
          onStage: progress(Boolean(o.json)),
        });
        if (o.checkReproducible) {
          const { reproducibleCommand } = await import('./commands/reproducible.js');
          return cancellable((signal) => reproducibleCommand(flags(signal)));
        }
        const { buildCommand } = await import('./commands/build.js');
        return cancellable((signal) => buildCommand(flags(signal)));
      }),
    );

  program
    .command('export')
    .description('write the variant as a self-contained mkosi-initrd configuration directory, or as an RPM spec whose package holds its initrd')
    .addOption(new Option('--format <format>', 'mkosi: the configuration directory (drop-in, the files it carries, a README); rpm-spec: NAME.spec and its sources, building the initrd of one kernel with mkosi-initrd').choices(['mkosi', 'rpm-spec'] as const).makeOptionMandatory())
    .requiredOption('-o, --output <dir>', 'the directory to write: a new one, or an empty one (its parent must exist)')
    .addOption(new Option('--kernel-version <kver>', 'rpm-spec: the kernel the initrd is built for, as uname -r prints it (required)'))
    .addOption(snapshotOption())
    .addOption(buildDistroOption())
    .addOption(genericOption())
    .addOption(slimOption())
    .addOption(jsonOption())
    .action(
      run(async (o) =>
        (await import('./commands/export.js')).exportCommand({
          format: o.format,
          output: o.output,
          kernelVersion: o.kernelVersion,
          snapshot: o.snapshot,
          distro: o.distro,
          generic: Boolean(o.generic),
          slim: Boolean(o.slim),
        }),
      ),
    );

  program
    .command('boot-test')
    .description('boot an image in QEMU against a throwaway disk shaped like this host\'s root stack')
    .addOption(snapshotOption())
    .addOption(kernelOption())
    .option('--image <file>', 'the image to boot: an initrd, or a unified kernel image (.efi, booted under UEFI) (default: build the variant first)')
    .addOption(new Option('--format <format>', 'what to build when no --image is given: uki boots it under UEFI firmware (OVMF) through systemd-boot').choices(['cpio', 'uki'] as const))
    .option('--loader <file>', 'systemd-bootx64.efi that starts a UKI (default: /usr/lib/systemd/boot/efi/systemd-bootx64.efi)')
    .option('--log <file>', 'write the serial console to this file')
    .addOption(new Option('--without-credential', 'negative control: do not pass the LUKS passphrase').hideHelp())
    .addOption(jsonOption())
    .action(
      run(async (o) => {
        const { bootTestCommand } = await import('./commands/boottest.js');
        return cancellable((signal) =>
          bootTestCommand({
            snapshot: o.snapshot,
            kernelVersion: o.kernelVersion,
            image: o.image,
            format: o.format,
            loader: o.loader,
            log: o.log,
            withoutCredential: Boolean(o.withoutCredential),
            signal,
            onStage: progress(Boolean(o.json)),
          }),
        );
      }),
    );

  program
    .command('install')
    .description('switch kernel-install to mkosi-initrd: shows the diff, applies it atomically with a journal, revertible')
    .addOption(snapshotOption())
    .addOption(kernelOption())
    .option('--root <dir>', 'operate on this root directory instead of /')
    .option('--dry-run', 'show the diff and change nothing')
    .option('-y, --yes', 'apply without asking')
    .addOption(new Option('--layout <layout>', 'kernel-install layout (uki also sets uki_generator)').choices(['bls', 'uki'] as const).default('bls' as const))
    .addOption(new Option('--uki-generator <generator>', 'with --layout uki: who builds the UKI (ukify; mkosi is refused with the reason: it takes the stub from an image that has none)').choices(['ukify', 'mkosi'] as const))
    .option('--regenerate', 'then run kernel-install add for the kernel, keeping what boots now as the fallback (bls: the previous initrd with its own entry; uki: the BLS entry, or the previous UKI as …-previous.efi)')
    .option('--force', 'install even when the variant was not built, failed its checks, or the storage is unsupported')
    .option('--distro <id>', 'package names for this distribution (default: the root\'s)')
    .addOption(jsonOption())
    .action(
      run(async (o) => {
        const m = await import('./commands/install.js');
        const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY && !o.json);
        return m.installCommand({
          snapshot: o.snapshot,
          kernelVersion: o.kernelVersion,
          root: o.root,
          dryRun: Boolean(o.dryRun),
          yes: Boolean(o.yes),
          layout: o.layout,
          regenerate: Boolean(o.regenerate),
          ukiGenerator: o.ukiGenerator,
          force: Boolean(o.force),
          distro: o.distro,
          json: Boolean(o.json),
          confirm: interactive ? m.ttyConfirm : undefined,
        });
      }),
    );

  program
    .command('revert')
    .description('restore every file install touched exactly as it was, and delete what it created')
    .option('--root <dir>', 'operate on this root directory instead of /')
    .option('--force', 'revert even over files changed since the install')
    .addOption(jsonOption())
    .action(run(async (o) => (await import('./commands/revert.js')).revertCommand({ root: o.root, force: Boolean(o.force) })));

  program
    .command('fleet')
    .description('many hosts at once: which are supported, why not, and the variants that cover them')
    .argument('<paths...>', 'snapshots (directories, or FILE.tar archives), or directories holding them')
    .option('--csv', 'print a CSV table (one row per host) instead of text')
    .addOption(jsonOption())
    .action(async (paths, opts, cmd) => {
      await run(async (o: typeof opts) => (await import('./commands/fleet.js')).fleetCommand({ paths, csv: o.csv }))(opts, cmd);
    });

  program
    .command('doctor')
    .description('check every prerequisite for building and installing, with fixes')
    .addOption(snapshotOption())
    .addOption(kernelOption())
    .addOption(jsonOption())
    .action(
      run(async (o) =>
        (await import('./commands/doctor.js')).doctorCommand({ snapshot: o.snapshot, kernelVersion: o.kernelVersion }),
      ),
    );

  program.action(
    run(async (o) => {
      // No subcommand takes a word before it: a word here is a command that does not exist.
      if (program.args.length) {
        throw new InputError(`unknown command "${program.args[0]}"`, `the commands are ${program.commands.map((c) => c.name()).join(', ')}; run ${commandLine('--help')}`);
      }
      // The demo brings its own host and its own temporary root: these would be silently ignored.
      for (const flag of ['snapshot', 'root', 'fleet'] as const) {
        if (o.demo && o[flag] !== undefined) throw new InputError(`--${flag} does not apply to --demo: it runs on a bundled capture and installs into a temporary root`, `leave out --demo to open the wizard with --${flag}, or leave out --${flag}`);
      }
      if (o.fleet !== undefined && o.snapshot !== undefined) throw new InputError('--fleet and --snapshot both name the hosts to show', 'use --fleet DIR for many snapshots, or --snapshot PATH for one');
      // A snapshot that cannot be read is said now, with exit 2, not on a screen the user then quits with 0.
      if (o.snapshot !== undefined) await (await import('./host/snapshot.js')).loadSnapshot(o.snapshot);
      if (o.arch !== undefined) {
        // Checked before any screen opens; the demo's host and package list are a bundled x86_64 machine's.
        (await import('./service/host.js')).resolveArch(null, o.arch);
        if (o.demo) throw new InputError('--arch does not apply to --demo: its host and package list are a bundled x86_64 machine\'s', 'leave out --arch, or leave out --demo to run the wizard on this host');
      }
      const ui = await import('./ui/interactive.js');
      const tui = ui.wantsTui({ stdinTTY: Boolean(process.stdin.isTTY), stdoutTTY: Boolean(process.stdout.isTTY), env: process.env, json: Boolean(o.json) });
      if (o.fleet !== undefined) {
        const fleetPath = o.fleet;
        // Said now, with exit 2, rather than as a table whose one row says it.
        if (!(await import('node:fs')).existsSync(fleetPath)) throw new InputError(`--fleet ${fleetPath} does not exist`, 'name a directory of snapshots (directories or FILE.tar archives), as `initrd-wizard fleet` reads');
        if (!tui) return { json: {}, text: `The fleet table needs a terminal. Without one: ${commandLine('fleet', fleetPath)} (add --json or --csv).`, exitCode: 0 };
        const report = await (await import('./service/fleet.js')).analyzeFleet([fleetPath], await (await import('./variant/profiles.js')).loadProfiles());
        const { runFleetTui } = await import('./ui/FleetApp.js');
        const { hostServices } = await import('./ui/host-services.js');
        const outcome = await runFleetTui(report, fleetPath, (h) => hostServices({ snapshot: h.path, root: o.root, arch: o.arch }));
        return { json: {}, text: outcome.summary, exitCode: outcome.code };
      }
      if (tui) {
        const { runTui } = await import('./ui/run.js');
        const services = o.demo
          ? await (await import('./ui/demo-services.js')).demoServices()
          : (await import('./ui/host-services.js')).hostServices({ snapshot: o.snapshot, root: o.root, arch: o.arch });
        const outcome = await runTui(services);
        return { json: {}, text: outcome.summary, exitCode: outcome.code };
      }
      if (o.demo) return (await import('./commands/demo.js')).demoCommand();
      return { json: { commands: program.commands.map((c) => c.name()) }, text: ui.plainHint(), exitCode: 0 };
    }),
  );
  // Words that are no command reach the wizard's action, which names them (commander would say "too many
  // arguments"). Set last: subcommands copy their parent's settings when made, and theirs stay strict.
  program.allowExcessArguments();
  return program;
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let code: number | undefined;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
      return ok ? ExitCode.ok : ExitCode.badInput;
    }
    return reportError(err, argv.includes('--json'), safeIo(io), io);
  }
  return code ?? ExitCode.ok;
}
