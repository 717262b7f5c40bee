import { Companion } from '../../companion.js';
import { dataDirOf, headedFlag, intFlag, parse, UsageError } from '../args.js';
import { foreground } from '../foreground.js';

export const usage = 'start [--url URL]... [--name N] [--headed] [--cdp-port P]   create a session and launch Chromium';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    { url: { type: 'string', multiple: true }, name: { type: 'string' }, headed: { type: 'boolean' }, 'cdp-port': { type: 'string' }, json: { type: 'boolean' } },
    0,
  );
  // Checked before anything is created: a bad flag must not leave a session behind.
  const urls = values.url ?? [];
  for (const url of urls) {
    if (!URL.canParse(url)) throw new UsageError(`--url ${JSON.stringify(url)} is not a URL; give a whole one, e.g. https://example.com`);
  }
  const cdpPort = intFlag('cdp-port', values['cdp-port'], 0, 65535);
  const headed = headedFlag(values.headed);
  const companion = await Companion.open({ dataDir: dataDirOf(values), onNotice: (m) => process.stderr.write(`restory: ${m}\n`) });
  const waiting = foreground(companion);
  try {
    const session = await companion.start({ urls, name: values.name, headed, cdpPort });
    // The browser is for the user's automation (over CDP), not for this process: no Playwright
    // connection stays attached to instrument its pages.
    await session.detach();
    if (values.json) process.stdout.write(JSON.stringify({ sessionId: session.sessionId, cdpEndpoint: session.cdpEndpoint }) + '\n');
    else process.stdout.write(`session ${session.sessionId}\ncdp ${session.cdpEndpoint}\n`);
  } catch (e) {
    await companion.shutdown();
    throw e;
  }
  return waiting.run();
}
