/** What a subcommand hands to cli.ts, the one place that prints and exits. */

/** A command's answer: one JSON document and the text a person reads; cli.ts prints one of them and exits. */
export interface CommandResult {
  json: unknown;
  text: string;
  exitCode: number;
  /** Lines for stderr (diagnostics), shown in both modes. */
  diagnostics?: string[];
}
