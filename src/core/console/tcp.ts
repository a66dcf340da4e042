import * as net from 'node:net';
import { ConsoleEvents, ConsoleStream, retryDelay } from './stream';
import { TelnetFilter, telnetEscape } from './telnet';

/**
 * A console server (ser2net, a terminal server) on host:port, raw or telnet. When it drops — the server restarts, the
 * board's device goes away — the stream reconnects until closed. ser2net says in words when it cannot open the
 * board's device or the port is taken; those words become the waiting state's sentence instead of console text.
 */
export interface TcpConsoleTarget { host: string; port: number; protocol: 'raw' | 'telnet' }

const SER2NET_REFUSAL = /^(?:\r?\n)?(Device open failure: [^\r\n]*|Port already in use[^\r\n]*|Port is disabled[^\r\n]*)\r?\n?/;

export function tcpConsole(client: string, t: TcpConsoleTarget): ConsoleStream {
  const ev = new ConsoleEvents();
  const describe = `${client}'s console at ${t.host}:${t.port} (${t.protocol})`;
  let sock: net.Socket | undefined;
  let closed = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;

  const again = (why: string) => {
    sock = undefined;
    if (closed) return;
    ev.setState('waiting', why);
    timer = setTimeout(connect, retryDelay(attempt++));
  };

  function connect(): void {
    if (closed) return;
    const s = net.connect({ host: t.host, port: t.port });
    const telnet = t.protocol === 'telnet' ? new TelnetFilter() : undefined;
    // ser2net answers a connection it cannot serve with one line, then closes: that line is a state, not console text.
    let firstData = true;
    let up = false;
    const markUp = () => { if (!up && !closed) { up = true; attempt = 0; ev.setState('connected', `connected to ${t.host}:${t.port}`); } };
    let dropWhy = `the console server at ${t.host}:${t.port} closed the connection; reconnecting`;
    s.setNoDelay(true);
    s.on('connect', () => { sock = s; });
    s.on('data', (chunk: Buffer) => {
      let data = chunk;
      if (telnet) {
        const r = telnet.feed(chunk);
        if (r.reply.length) s.write(r.reply);
        data = r.data;
      }
      let text = data.toString('utf8');
      if (firstData && text.length) {
        firstData = false;
        const m = SER2NET_REFUSAL.exec(text);
        if (m) {
          dropWhy = /in use/.test(m[1]!)
            ? `the console of ${client} is busy: ${t.host}:${t.port} answered "${m[1]!.trim()}" (someone else is connected); waiting for it to free up`
            : `the console server at ${t.host}:${t.port} cannot open ${client}'s serial device ("${m[1]!.trim()}": is the board powered and its adapter plugged in?); retrying`;
          text = text.slice(m[0].length);
          if (!text) return;
        }
      }
      markUp();
      if (text) ev.emitData(text);
    });
    // A server that sends nothing yet (the board is quiet) is connected all the same, once it has not refused us.
    s.on('connect', () => setTimeout(() => { if (firstData && sock === s) markUp(); }, 1000));
    s.on('error', (err: NodeJS.ErrnoException) => {
      dropWhy = err.code === 'ECONNREFUSED'
        ? `nothing listens at ${t.host}:${t.port} (is the console server running? /clients/${client}/console); retrying`
        : `the console server at ${t.host}:${t.port} failed (${err.code ?? err.message}); retrying`;
    });
    s.on('close', () => { if (sock === s || sock === undefined) again(dropWhy); });
  }

  connect();
  return {
    describe,
    onData: (l) => ev.onData(l),
    onState: (l) => ev.onState(l),
    write(input) {
      const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
      sock?.write(t.protocol === 'telnet' ? telnetEscape(buf) : buf);
    },
    ready: (ms = 30_000) => ev.ready(ms, describe),
    close() {
      closed = true;
      clearTimeout(timer);
      sock?.destroy();
      ev.setState('closed', 'closed');
    },
  };
}
