/** Entry point of the standalone `arca` bundle (`npm run build`); `bin/arca.js` runs the sources in the repo. */
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
