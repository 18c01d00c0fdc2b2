// Which process sent a command MONITOR shows: its `source` is the client's ip:port, matched to a
// socket inode (/proc/net/tcp) and that inode to a process's open files (Linux only).
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** Local TCP port -> socket inode, from /proc/net/tcp(6). */
function socketInodesByPort(): Map<number, string> {
  const out = new Map<number, string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      const inode = cols[9];
      if (local === undefined || inode === undefined) continue;
      out.set(Number.parseInt(local.split(':')[1] ?? '0', 16), inode);
    }
  }
  return out;
}

/** Which of `pids` owns the socket with this inode. */
function ownerOf(inode: string, pids: Readonly<Record<string, number | undefined>>): string | undefined {
  for (const [label, pid] of Object.entries(pids)) {
    if (pid === undefined) continue;
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return label;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** The label (a key of pids) of the process whose socket MONITOR's `source` is, cached in `owners`; 'other' when none. */
export function ownerOfSource(source: string, pids: Readonly<Record<string, number | undefined>>, owners: Map<string, string>): string {
  let owner = owners.get(source);
  if (owner === undefined) {
    const inode = socketInodesByPort().get(Number(source.split(':').at(-1)));
    owner = (inode === undefined ? undefined : ownerOf(inode, pids)) ?? 'other';
    owners.set(source, owner);
  }
  return owner;
}
