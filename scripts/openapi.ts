/** `npm run openapi`: writes docs/openapi.json from the route table (a test checks it is current). */
import { writeFileSync } from 'node:fs';
import { openApiDocument } from '../functions/http/openapi.ts';
import { routes } from '../functions/http/routes.ts';

writeFileSync(
  new URL('../docs/openapi.json', import.meta.url),
  `${JSON.stringify(openApiDocument(routes), null, 2)}\n`,
);
