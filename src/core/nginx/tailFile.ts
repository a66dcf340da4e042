import * as fsp from 'node:fs/promises';

/** The last `lines` lines of a text file ('' when it does not exist). Reads only the end of a big log. */
export async function lastLines(file: string, lines: number): Promise<string> {
  let h: fsp.FileHandle;
  try { h = await fsp.open(file, 'r'); } catch { return ''; }
  try {
    const { size } = await h.stat();
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    await h.read(buf, 0, len, size - len);
    const text = buf.toString('utf8').replace(/\n$/, '');
    return text ? text.split('\n').slice(-lines).join('\n') : '';
  } finally {
    await h.close();
  }
}

/**
 * Follow a growing file like `tail -F`: new text goes to `sink`; a truncated or replaced file is read from its start.
 * Polls, because fs.watch misses appends made through another process's long-open descriptor on some filesystems.
 */
export function followFile(file: string, sink: (text: string) => void, intervalMs = 200): { stop(): void; done: Promise<void> } {
  let pos = -1;
  let ino = -1;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let finish!: () => void;
  const done = new Promise<void>((r) => { finish = r; });
  const tick = async () => {
    try {
      const st = await fsp.stat(file);
      if (pos < 0) { pos = st.size; ino = st.ino; }
      if (st.ino !== ino || st.size < pos) { pos = 0; ino = st.ino; }
      if (st.size > pos) {
        const h = await fsp.open(file, 'r');
        try {
          const buf = Buffer.alloc(st.size - pos);
          await h.read(buf, 0, buf.length, pos);
          pos = st.size;
          sink(buf.toString('utf8'));
        } finally { await h.close(); }
      }
    } catch { if (pos < 0) pos = 0; }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };
  void tick();
  return {
    stop() { stopped = true; if (timer) clearTimeout(timer); finish(); },
    done,
  };
}
