/** Entry point of `npm start`. */
import { ENV } from '../config/env.ts';
import { serve } from './serve.ts';

try {
  await serve();
} catch (error) {
  const failure = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (failure.code !== 'EADDRINUSE' && failure.code !== 'EACCES') throw error;
  // One line that says what to change, not a stack.
  const where = `${failure.address ?? process.env[ENV.host] ?? '127.0.0.1'}:${failure.port ?? process.env[ENV.port] ?? 7070}`;
  const why = failure.code === 'EADDRINUSE' ? 'is already in use' : 'may not be opened by this user';
  process.stderr.write(`arca: ${where} ${why}: set ${ENV.port} (and ${ENV.host}) to listen elsewhere\n`);
  process.exitCode = 1;
}
