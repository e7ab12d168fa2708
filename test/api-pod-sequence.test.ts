// A pod as cri-dockerd makes one, replayed over the API (v1.44 paths on the unix socket; cri-dockerd
// itself cannot be installed here): a sandbox ("pause") container with NetworkMode none, IpcMode
// shareable and labels, an app container joined to its network, pid and IPC namespaces under a
// CgroupParent, then what cri-dockerd and the kubelet read back (label-filtered list, inspect with
// size, exec with a TTY resized, one-shot stats, the LogPath file) and the removal dockerd refuses.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiRequest, docker, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { poll } from './helpers/poll.js';

let d: RunningDaemon;
let work: string;
const api = (method: string, path: string, body?: object) => apiRequest(d.socket, method, `/v1.44${path}`, body);
// The cgroup parent the kubelet would hand down (cgroupfs driver), this test's own.
const parent = `/berth-pod-test-${randomBytes(4).toString('hex')}/pod1`;

before(async () => {
  work = makeTempDir('berth-pod-');
  d = await startDaemon();
  await importBusybox(d.socket, work);
});
after(async () => {
  if (d) {
    await removeAllContainers(d.socket);
    await d.cleanup();
  }
  // The parent cgroups runc made (it removes only the containers' own).
  for (const h of readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c)).concat('/sys/fs/cgroup')) {
    for (const dir of [join(h, parent), join(h, parent, '..')]) {
      try { rmdirSync(dir); } catch { /* absent, or not a hierarchy */ }
    }
  }
  rmSync(work, { recursive: true, force: true });
});

async function create(name: string, body: object): Promise<string> {
  const r = await api('POST', `/containers/create?name=${name}`, { Image: 'busybox', ...body });
  assert.equal(r.status, 201, r.body);
  return r.json().Id;
}
async function start(id: string): Promise<void> {
  const r = await api('POST', `/containers/${id}/start`);
  assert.equal(r.status, 204, r.body);
}
const inside = async (id: string, cmd: string) => (await docker(d.socket, ['exec', id, 'sh', '-c', cmd])).stdout;

test('a pod: sandbox and app container share network, pid and IPC namespaces; cri-dockerd\'s reads; removal refused as dockerd', async () => {
  const info = (await api('GET', '/info')).json();
  assert.equal(info.CgroupDriver, 'cgroupfs');

  const podLabels = { 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': 'uid-1' };
  const sandbox = await create('k8s_POD_web', {
    Cmd: ['sleep', '3600'],
    Labels: { ...podLabels, 'io.kubernetes.docker.type': 'podsandbox' },
    HostConfig: { NetworkMode: 'none', IpcMode: 'shareable', CgroupParent: parent },
  });
  await start(sandbox);
  const sbInspect = (await api('GET', `/containers/${sandbox}/json`)).json();
  assert.equal(sbInspect.HostConfig.IpcMode, 'shareable');
  // cri-dockerd hands SandboxKey to CNI: the sandbox's network namespace file.
  const key: string = sbInspect.NetworkSettings.SandboxKey;
  assert.match(key, /^\/.+/);
  const sbPid: number = sbInspect.State.Pid;
  assert.equal(
    (await docker(d.socket, ['exec', sandbox, 'busybox', 'readlink', '/proc/self/ns/net'])).stdout.trim(),
    readlinkSync(`/proc/${sbPid}/ns/net`),
  );

  const ns = `container:${sandbox}`;
  const app = await create('k8s_app_web', {
    Cmd: ['sh', '-c', 'echo app-started; echo app-err >&2; exec sleep 3600'],
    Labels: { ...podLabels, 'io.kubernetes.docker.type': 'container', 'io.kubernetes.container.name': 'app' },
    HostConfig: { NetworkMode: ns, PidMode: ns, IpcMode: ns, CgroupParent: parent },
  });
  await start(app);
  const appInspect = (await api('GET', `/containers/${app}/json?size=1`)).json();
  assert.equal(appInspect.HostConfig.PidMode, ns);
  assert.equal(appInspect.HostConfig.IpcMode, ns);
  // inspect with size=1, as cri-dockerd's ContainerStatus asks for it.
  assert.equal(typeof appInspect.SizeRw, 'number');
  assert.ok(appInspect.SizeRootFs > 0, JSON.stringify(appInspect.SizeRootFs));

  // Network: the same namespace, so the same interfaces and addresses.
  assert.equal(await inside(app, 'busybox ip addr'), await inside(sandbox, 'busybox ip addr'));
  assert.equal(await inside(app, 'busybox readlink /proc/self/ns/net'), await inside(sandbox, 'busybox readlink /proc/self/ns/net'));
  // Pid: the sandbox's pause process is pid 1 of the app container's namespace.
  assert.equal(await inside(app, 'busybox readlink /proc/self/ns/pid'), await inside(sandbox, 'busybox readlink /proc/self/ns/pid'));
  assert.equal(await inside(app, "busybox tr '\\0' ' ' < /proc/1/cmdline"), 'sleep 3600 ');
  assert.match(await inside(app, 'busybox ps -o pid,args'), /^\s*1 sleep 3600$/m);
  // IPC: the same namespace, and the same /dev/shm.
  assert.equal(await inside(app, 'busybox readlink /proc/self/ns/ipc'), await inside(sandbox, 'busybox readlink /proc/self/ns/ipc'));
  await inside(sandbox, 'echo shared > /dev/shm/pod-note');
  assert.equal(await inside(app, 'busybox cat /dev/shm/pod-note'), 'shared\n');
  // The app container's cgroup is <CgroupParent>/<id> (cgroupfs), as the kernel reports it.
  const appPid: number = appInspect.State.Pid;
  const cgroups = readFileSync(`/proc/${appPid}/cgroup`, 'utf8');
  assert.ok(cgroups.split('\n').some((l) => l.endsWith(`:${parent}/${app}`)), cgroups);

  // ContainerList with label filters, as cri-dockerd lists sandboxes and containers.
  const filters = (f: object) => encodeURIComponent(JSON.stringify(f));
  const both = (await api('GET', `/containers/json?all=1&filters=${filters({ label: ['io.kubernetes.pod.uid=uid-1'] })}`)).json();
  assert.deepEqual(both.map((c: { Id: string }) => c.Id).sort(), [sandbox, app].sort());
  const sandboxes = (await api('GET', `/containers/json?filters=${filters({ label: ['io.kubernetes.docker.type=podsandbox', 'io.kubernetes.pod.name=web'] })}`)).json();
  assert.deepEqual(sandboxes.map((c: { Id: string }) => c.Id), [sandbox]);

  // Exec with a TTY, resized while it runs (kubectl exec -it): the process sees the new size.
  const exec = await api('POST', `/containers/${app}/exec`, {
    Tty: true, AttachStdin: false, AttachStdout: false, AttachStderr: false,
    Cmd: ['sh', '-c', 'i=0; while [ "$(busybox stty size)" != "30 100" ] && [ $i -lt 100 ]; do busybox sleep 0.1; i=$((i+1)); done; busybox stty size > /tmp/size'],
  });
  assert.equal(exec.status, 201, exec.body);
  const execId = exec.json().Id;
  const started = await api('POST', `/exec/${execId}/start`, { Detach: true, Tty: true });
  assert.equal(started.status, 200, started.body);
  const resized = await api('POST', `/exec/${execId}/resize?h=30&w=100`);
  assert.equal(resized.status, 200, resized.body);
  await poll(async () => !(await api('GET', `/exec/${execId}/json`)).json().Running, { timeoutMs: 15_000 });
  assert.equal((await api('GET', `/exec/${execId}/json`)).json().ExitCode, 0);
  assert.equal(await inside(app, 'busybox cat /tmp/size'), '30 100\n');

  // One-shot stats (ContainerStatsOneShot): one JSON object, memory and cpu filled.
  for (const q of ['stream=false', 'stream=false&one-shot=true']) {
    const stats = await api('GET', `/containers/${app}/stats?${q}`);
    assert.equal(stats.status, 200, stats.body);
    const s = stats.json();
    assert.equal(s.id, app);
    assert.ok(s.memory_stats.usage > 0, JSON.stringify(s.memory_stats));
    assert.ok(s.cpu_stats.cpu_usage.total_usage > 0, JSON.stringify(s.cpu_stats));
  }

  // LogPath: the file the kubelet reads, in the CRI format (TIME STREAM F|P BYTES).
  const logPath: string = appInspect.LogPath;
  assert.ok(logPath.startsWith('/'), logPath);
  const lines = readFileSync(logPath, 'utf8').trim().split('\n');
  for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) (stdout|stderr) [FP] /, line);
  assert.ok(lines.some((l) => / stdout F app-started$/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => / stderr F app-err$/.test(l)), lines.join('\n'));

  // Removal of the sandbox while the app container runs in its namespaces: dockerd refuses any
  // running container without force (it does not look at who shares its namespaces), in its words.
  const refused = await api('DELETE', `/containers/${sandbox}`);
  assert.equal(refused.status, 409);
  assert.equal(refused.json().message, 'cannot remove container "/k8s_POD_web": container is running: stop the container before removing or force remove');
  assert.equal((await api('GET', `/containers/${sandbox}/json`)).json().State.Running, true);
  assert.equal((await api('GET', `/containers/${app}/json`)).json().State.Running, true);

  // cri-dockerd's StopPodSandbox and RemovePodSandbox: the app container first, then the sandbox.
  for (const id of [app, sandbox]) {
    assert.equal((await api('POST', `/containers/${id}/stop?t=1`)).status, 204);
    assert.equal((await api('DELETE', `/containers/${id}?v=1`)).status, 204);
  }
});

test('joining namespaces: dockerd\'s refusals (invalid mode, donor not running, non-shareable IPC)', async () => {
  const badIpc = await api('POST', '/containers/create', { Image: 'busybox', HostConfig: { IpcMode: 'bogus' } });
  assert.equal(badIpc.status, 400);
  assert.equal(badIpc.json().message, 'invalid IPC mode: bogus');
  const badPid = await api('POST', '/containers/create', { Image: 'busybox', HostConfig: { PidMode: 'container:' } });
  assert.equal(badPid.status, 400);
  assert.equal(badPid.json().message, 'invalid PID mode: container:');

  // The default IPC mode is private, as dockerd's since API 1.40: it cannot be joined.
  const priv = await create('donor-private', { Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } });
  assert.equal((await api('GET', `/containers/${priv}/json`)).json().HostConfig.IpcMode, 'private');
  await start(priv);
  const joinPriv = await create('join-private', { Cmd: ['true'], HostConfig: { NetworkMode: 'none', IpcMode: 'container:donor-private' } });
  // Recorded by ID, as dockerd's adaptSharedNamespaceContainer does.
  assert.equal((await api('GET', `/containers/${joinPriv}/json`)).json().HostConfig.IpcMode, `container:${priv}`);
  const nonShareable = await api('POST', `/containers/${joinPriv}/start`);
  assert.equal(nonShareable.status, 400);
  assert.equal(nonShareable.json().message, `failed to join IPC namespace: container ${priv}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
  // Its pid namespace can be joined (no such condition for pid).
  const joinPid = await create('join-pid', { Cmd: ['busybox', 'cat', '/proc/1/cmdline'], HostConfig: { NetworkMode: 'none', PidMode: 'container:donor-private' } });
  await start(joinPid);
  assert.equal((await api('POST', `/containers/${joinPid}/wait`)).json().StatusCode, 0);
  assert.equal((await docker(d.socket, ['logs', joinPid])).stdout.replace(/\0/g, ' '), 'sleep 3600 ');

  // A donor that is not running: IPC is a conflict (409), PID a system error (500), as dockerd.
  const stopped = await create('donor-stopped', { Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none', IpcMode: 'shareable' } });
  const ipcJoin = await create('join-ipc-stopped', { Cmd: ['true'], HostConfig: { NetworkMode: 'none', IpcMode: `container:${stopped}` } });
  const ipcRefused = await api('POST', `/containers/${ipcJoin}/start`);
  assert.equal(ipcRefused.status, 409);
  assert.equal(ipcRefused.json().message, `failed to join IPC namespace: container ${stopped} is not running`);
  const pidJoin = await create('join-pid-stopped', { Cmd: ['true'], HostConfig: { NetworkMode: 'none', PidMode: `container:${stopped}` } });
  const pidRefused = await api('POST', `/containers/${pidJoin}/start`);
  assert.equal(pidRefused.status, 500);
  assert.equal(pidRefused.json().message, `failed to join PID namespace: container ${stopped} is not running`);

  // Below API 1.40 an unset IpcMode is shareable (version gate ipc-private-default).
  const old = await apiRequest(d.socket, 'POST', '/v1.39/containers/create', { Image: 'busybox', Cmd: ['true'] });
  assert.equal(old.status, 201, old.body);
  assert.equal((await api('GET', `/containers/${old.json().Id}/json`)).json().HostConfig.IpcMode, 'shareable');
  await removeAllContainers(d.socket);
});
