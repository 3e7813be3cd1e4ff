import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MotoProxy {
  readonly url: string;
  /** Status of every PUT to a `staging/` key (whole objects and parts), in order. */
  readonly stagingPuts: number[];
  close(): Promise<void>;
}

/**
 * A pass-through proxy in front of moto that plays flaky S3 for the CLI tests: the Nth part PUT
 * (1-based, as listed in `failPartPuts`) answers 500 InternalError without reaching moto, so the
 * CLI's per-part retry is exercised on the AWS backend as the embedded storage endpoint does it.
 */
export async function startMotoProxy(
  target: string,
  failPartPuts: readonly number[] = [],
): Promise<MotoProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const stagingPuts: number[] = [];
  let partPuts = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', target);
    const staging = req.method === 'PUT' && url.pathname.includes('/staging/');
    if (staging && url.searchParams.has('partNumber') && failPartPuts.includes(++partPuts)) {
      req.resume();
      req.on('end', () => {
        stagingPuts.push(500);
        res.writeHead(500, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0"?><Error><Code>InternalError</Code><Message>injected</Message></Error>');
      });
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        if (staging) stagingPuts.push(answer.statusCode ?? 0);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stagingPuts,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}
