import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/loadConfig.js';
import { requestConsoleLink } from './consoleLink.js';
import { findLiveKitServerBinary, installLiveKitServer, LiveKitServer } from './livekitServer.js';
import { DEMO_OUTBOUND_PORT, firstRunConfig, type LocalSettings, readLocalSettings } from './localConfig.js';
import { SipEngineProcess } from './sipEngineProcess.js';
import { stopChild } from './stopChild.js';

/**
 * `npm run up`: the gateway on its embedded defaults for a person at a terminal. It starts a
 * local livekit-server and the gateway process, with a config under `.local/` created on first
 * run (random API key and LiveKit secret, kept for later runs), and stops both on Ctrl-C.
 * Production runs `npm start` alone, with livekit-server and the SIP server run separately.
 */

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const localDir = join(root, '.local');
const configPath = join(localDir, 'gateway.yaml');

function say(line: string): void {
  process.stderr.write(`[up] ${line}\n`);
}

/** This machine's IPv4 addresses, loopback aside. */
function machineAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((address) => address !== undefined && address.family === 'IPv4' && !address.internal)
    .map((address) => (address as { address: string }).address);
}

function localSettings(): LocalSettings {
  if (existsSync(configPath)) return readLocalSettings(readFileSync(configPath, 'utf8'), configPath);
  const { yaml, settings } = firstRunConfig(localDir, machineAddresses());
  mkdirSync(localDir, { recursive: true });
  writeFileSync(configPath, yaml, { mode: 0o600 });
  say(`wrote ${configPath} (a demo app, number ${settings.demoNumber} and a loopback trunk "local")`);
  return settings;
}

function startGateway(): ChildProcess {
  const main = join(root, 'dist', 'src', 'main.js');
  return spawn(process.execPath, [main, '--config', configPath], { stdio: 'inherit', cwd: root });
}

/** Stops child processes in the reverse order of their start, once, then exits. */
class Stack {
  private readonly stoppers: (() => Promise<void>)[] = [];
  private stopping = false;

  add(stop: () => Promise<void>): void {
    this.stoppers.unshift(stop);
  }

  /** A child that exits by itself takes the whole stack down: half a gateway is no use. */
  watch(name: string, child: ChildProcess): void {
    child.on('exit', (code) => {
      if (this.stopping) return;
      say(`${name} exited with code ${code}; stopping everything`);
      void this.stop(code ?? 1);
    });
  }

  async stop(code: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const stop of this.stoppers) await stop();
    process.exit(code);
  }
}

async function main(): Promise<void> {
  const stack = new Stack();
  process.on('SIGINT', () => void stack.stop(0));
  process.on('SIGTERM', () => void stack.stop(0));

  const settings = localSettings();
  // The gateway's own view of its config decides what runs here.
  const config = loadConfig({ file: configPath, env: process.env });

  const binary = findLiveKitServerBinary() ?? installLiveKitServer(say);
  const livekit = new LiveKitServer(binary, {
    apiKey: settings.livekitKey,
    apiSecret: settings.livekitSecret,
    port: 7880,
    rtcTcpPort: 7881,
    rtcUdpPort: 7882,
  });
  say(`starting livekit-server (${binary}) on ws://127.0.0.1:7880`);
  await livekit.start();
  stack.add(() => livekit.stop());

  if (config.sip.engine === 'embedded') {
    const engine = new SipEngineProcess({
      root,
      contacts: config.sip.contacts,
      adminAddress: config.sip.drachtio.host,
      adminPort: config.sip.drachtio.port,
      secret: config.sip.drachtio.secret,
      tls: config.sip.tls,
    });
    say(`starting the embedded SIP server on ${config.sip.contacts.join(', ')}`);
    stack.watch('SIP server', engine.start());
    stack.add(() => engine.stop());
  }

  const gateway = startGateway();
  stack.watch('gateway', gateway);
  stack.add(() => stopChild(gateway));
  const baseUrl = `http://${config.http.host}:${config.http.port}`;
  say(`gateway: ${baseUrl}  (GET /readyz, /openapi.json, /metrics)`);
  // The key itself stays in the 0600 file: terminals get scrolled back, shared and recorded.
  say(`admin API key: ${settings.adminKey.slice(0, 13)}… (auth.keys[0].key in ${configPath})`);
  const gatewayExited = new AbortController();
  gateway.once('exit', () => gatewayExited.abort());
  const link = await requestConsoleLink({
    baseUrl,
    adminKey: settings.adminKey,
    appId: settings.demoAppId,
    timeoutMs: 60_000,
    signal: gatewayExited.signal,
  });
  say(`agent console (this link signs in once, within 10 minutes; run npm run up again for another):`);
  say(`  ${link}`);
  if (settings.demoNumber) {
    const sip = config.sip.contacts[0] ?? 'sip:127.0.0.1:5060';
    const host = sip.replace(/^sips?:/, '').replace(/;.*$/, '');
    say(`call the demo number ${settings.demoNumber}, then answer it in the console:`);
    say(`  baresip -e '/uanew <sip:me@127.0.0.1>;regint=0' -e '/dial sip:${settings.demoNumber}@${host}'`);
    say(`  sipp -sn uac -s ${settings.demoNumber} -m 1 -d 60000 ${host}    (rings and holds, no sound)`);
    say(
      `calls placed from the console to a phone number ring a softphone on 127.0.0.1:${DEMO_OUTBOUND_PORT}`,
    );
  }
}

main().catch((error: unknown) => {
  say(`failed: ${(error as Error).message}`);
  process.exit(1);
});
