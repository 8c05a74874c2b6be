/** What a subcommand hands to cli.ts, the one place that prints and exits. */

/** A command's answer: one JSON document and the text a person reads; cli.ts prints one of them and exits. */
export interface CommandResult {
  json: unknown;
  text: string;
  exitCode: number;
  /** Lines for stderr (diagnostics), shown in both modes. */
  diagnostics?: string[];
}

/**
 * An answer too large to hold (a fleet of 100,000 hosts): written piece by
 * piece as it is made. The JSON pieces join into one document, the same
 * bytes JSON.stringify(value, null, 2) would give; the exit code is known
 * once the last piece is out.
 */
export interface StreamedResult {
  stream: (form: 'json' | 'text') => AsyncIterable<string>;
  exitCode: () => number;
}

export const isStreamed = (r: CommandResult | StreamedResult): r is StreamedResult => 'stream' in r;
