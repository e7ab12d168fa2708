// The uid, gid and supplementary groups of Config.User, looked up in the image's own
// /etc/passwd and /etc/group (never the host's), as dockerd does.
import { invalid } from '../core/plugin-api.js';
import { readFileInRoot } from './scoped-path.js';

export interface ProcessUser { uid: number; gid: number; additionalGids: number[] }

interface PasswdEntry { name: string; uid: number; gid: number }
interface GroupEntry { name: string; gid: number; members: string[] }

const isNumeric = (s: string) => /^[0-9]+$/.test(s);

function parsePasswd(text: string | null): PasswdEntry[] {
  return (text ?? '').split('\n').flatMap((line) => {
    const f = line.split(':');
    if (line.startsWith('#') || f.length < 4 || !isNumeric(f[2]) || !isNumeric(f[3])) return [];
    return [{ name: f[0], uid: Number(f[2]), gid: Number(f[3]) }];
  });
}

function parseGroup(text: string | null): GroupEntry[] {
  return (text ?? '').split('\n').flatMap((line) => {
    const f = line.split(':');
    if (line.startsWith('#') || f.length < 3 || !isNumeric(f[2])) return [];
    return [{ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) }];
  });
}

/** "name", "uid", "name:group", "uid:gid" (and mixes); empty means root. `groupAdd` (docker run
 * --group-add): more supplementary groups, by name in the image's /etc/group or by number. */
export async function resolveUser(rootfs: string, user: string | undefined, groupAdd: string[] = []): Promise<ProcessUser> {
  const [userPart = '', groupPart] = (user ?? '').split(':', 2);
  const passwd = parsePasswd(await readFileInRoot(rootfs, '/etc/passwd'));
  const groups = parseGroup(await readFileInRoot(rootfs, '/etc/group'));
  let uid = 0;
  let gid = 0;
  let name: string | undefined;
  if (userPart === '' || isNumeric(userPart)) {
    uid = userPart === '' ? 0 : Number(userPart);
    const entry = passwd.find((p) => p.uid === uid);
    if (entry) ({ gid, name } = entry);
  } else {
    const entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw invalid(`unable to find user ${userPart}: no matching entries in passwd file`);
    ({ uid, gid, name } = entry);
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (isNumeric(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((e) => e.name === groupPart);
      if (!g) throw invalid(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  const member = name === undefined ? [] : groups.filter((g) => g.members.includes(name!)).map((g) => g.gid);
  // As moby/sys/user GetAdditionalGroups: a name (or a gid) in the group file, else a number.
  const added = groupAdd.map((ag) => {
    const g = groups.find((e) => e.name === ag || String(e.gid) === ag);
    if (g) return g.gid;
    if (!/^-?[0-9]+$/.test(ag)) throw invalid(`Unable to find group ${ag}: no matching entries in group file`);
    const n = Number(ag);
    if (n < 0 || n > 2 ** 31 - 1) throw invalid('uids and gids must be in range 0-2147483647');
    return n;
  });
  return { uid, gid, additionalGids: [...new Set([...member, ...added])] };
}
