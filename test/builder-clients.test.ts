// docker build from the client libraries: docker-py's images.build (Debian's python3-docker, the
// library compose 1.29 builds with) and dockerode's buildImage.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import Docker from 'dockerode';
import { docker, type RunningDaemon } from './helpers/daemon.js';
import { withBusyboxDaemon } from './helpers/busybox.js';
import { writeContext } from './helpers/build.js';

let d: RunningDaemon;
let work: string;
withBusyboxDaemon('berth-bldcli-', (daemon, dir) => { d = daemon; work = dir; });

const DOCKERFILE = 'FROM busybox\nARG WHO=nobody\nRUN echo "hello $WHO" > /hello\nCMD ["cat", "/hello"]\n';

const PROGRAM = `
import json, sys, docker
client = docker.DockerClient(base_url='unix://' + sys.argv[1])
image, logs = client.images.build(path=sys.argv[2], tag='py-built:1', buildargs={'WHO': 'python'}, rm=True)
out = {'id': image.id, 'tags': image.tags, 'logs': ''.join(l.get('stream', '') for l in logs)}
try:
    client.images.build(path=sys.argv[3], tag='py-failed:1')
    out['failed'] = None
except docker.errors.BuildError as e:
    out['failed'] = e.msg
print(json.dumps(out))
`;

test('docker-py: images.build with buildargs returns the image and its logs; a failing RUN raises BuildError', async () => {
  const dir = writeContext(join(work, 'py'), { Dockerfile: DOCKERFILE });
  const bad = writeContext(join(work, 'py-bad'), { Dockerfile: 'FROM busybox\nRUN exit 2\n' });
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('/usr/bin/python3', ['-c', PROGRAM, d.socket, dir, bad], { timeout: 120_000, env: { ...process.env, PYTHONPATH: '' } }, (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out)));
  });
  const r = JSON.parse(stdout);
  assert.deepEqual(r.tags, ['py-built:1']);
  assert.match(r.logs, /Step 3\/4 : RUN echo "hello \$WHO" > \/hello/);
  assert.match(r.failed, /The command '\/bin\/sh -c exit 2' returned a non-zero code: 2/);
  assert.equal((await docker(d.socket, ['run', '--rm', 'py-built:1'])).stdout, 'hello python\n');
});

test('dockerode: buildImage of a context folder, followed to the end', async () => {
  const dir = writeContext(join(work, 'node'), { Dockerfile: DOCKERFILE });
  const client = new Docker({ socketPath: d.socket, timeout: 120_000 });
  const stream = await client.buildImage({ context: dir, src: ['Dockerfile'] }, { t: 'node-built:1', buildargs: { WHO: 'node' } });
  const events = await new Promise<{ stream?: string; aux?: { ID: string }; error?: string }[]>((resolve, reject) => {
    client.modem.followProgress(stream, (err: Error | null, res: any[]) => (err ? reject(err) : resolve(res)));
  });
  assert.ok(!events.some((e) => e.error), JSON.stringify(events));
  const aux = events.find((e) => e.aux)?.aux?.ID;
  assert.match(aux ?? '', /^sha256:[0-9a-f]{64}$/);
  assert.equal((await client.getImage('node-built:1').inspect()).Id, aux);
  assert.equal((await docker(d.socket, ['run', '--rm', 'node-built:1'])).stdout, 'hello node\n');
});
