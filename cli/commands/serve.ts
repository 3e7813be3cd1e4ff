import { type Command, stringOption } from '../command.ts';
import { UsageError } from '../errors.ts';

export const serve: Command = {
  help: `Usage: arca serve [--port n] [--host h] [--data-dir dir]

Runs Arca locally, exactly like \`npm start\`: the API, the storage endpoint for signed URLs, the
scan worker and GC, with the embedded backend (files + SQLite under the data dir). Prints the admin
token and the ARCA_URL/ARCA_TOKEN to export. Stops cleanly on Ctrl-C / SIGTERM.

Options:
  --port <n>        port (default: $ARCA_PORT, else 7070; 0 picks a free one)
  --host <h>        interface (default: $ARCA_HOST, else 127.0.0.1)
  --data-dir <dir>  data directory (default: $ARCA_DATA_DIR, else ./.arca)
  -h, --help        this help
Every other setting comes from the environment (ARCA_ADMIN_TOKEN, ARCA_MULTIPART_THRESHOLD, …).

Examples:
  arca serve
  ARCA_ADMIN_TOKEN=dev arca serve --port 8080 --data-dir /tmp/arca`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
  },
  run: async (ctx) => {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    // Into process.env, not a copy: serve() reads some settings (the port) from process.env itself.
    const env = process.env;
    const set = (option: string, name: string) => {
      const value = stringOption(ctx.values, option);
      if (value !== undefined) env[name] = value;
    };
    set('port', 'ARCA_PORT');
    set('host', 'ARCA_HOST');
    set('data-dir', 'ARCA_DATA_DIR');
    const { serve: start } = await import('../../functions/local/serve.ts');
    await start(env);
    // serve() keeps the process alive and exits itself on SIGINT/SIGTERM.
    return await new Promise<number>(() => {});
  },
};
