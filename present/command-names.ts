/**
 * The commands of kms-recover, as a printed command names them (`kms-recover resume …`), and
 * `--help` and `--version`, which name none: read by the CLI, which renders printed commands as
 * they work in its console (cli/printed-commands.ts), and by the wrapper, which keeps a command
 * whole on a line (wrap.ts).
 */
export const COMMAND_NAMES = ['start', 'resume', 'confirm', 'abandon', 'takeover', 'status', 'watch', 'list', 'history', 'report', 'check-db', 'diagram', 'demo', 'sim', '--help', '--version'] as const;
