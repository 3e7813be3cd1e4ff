export { runPool } from '../functions/core/pool.ts';
